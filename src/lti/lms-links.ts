/**
 * Where a person finds a course (and an activity) in their LMS, read from a launch's `launch_presentation.return_url`
 * — the only LMS page a launch names. E-mails link there, because the tool itself opens only through a launch.
 * The return URL is never kept as it is: Moodle's carries the session key (`sesskey`), so it would fail for anyone
 * else and later; the course and activity pages are rebuilt from it instead.
 *
 * - Moodle: `…/mod/lti/return.php?course=2&instanceid=7&…` → `…/course/view.php?id=2`, `…/mod/lti/view.php?l=7`.
 * - Canvas: `…/courses/12/external_content/success/…` → `…/courses/12` (the activity's page is not named).
 * - Any other LMS: its home page (the URL's origin).
 */
export interface LmsLinks {
  course: string | null;
  activity: string | null;
}

export function lmsLinksFrom(returnUrl: string | undefined): LmsLinks {
  if (!returnUrl) return { course: null, activity: null };
  let url: URL;
  try {
    url = new URL(returnUrl);
  } catch {
    return { course: null, activity: null };
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return { course: null, activity: null };
  const moodle = /^(.*)\/mod\/lti\/return\.php$/.exec(url.pathname);
  const courseId = url.searchParams.get('course');
  if (moodle && courseId && /^\d+$/.test(courseId)) {
    const base = `${url.origin}${moodle[1]}`;
    const instance = url.searchParams.get('instanceid');
    return { course: `${base}/course/view.php?id=${courseId}`, activity: instance && /^\d+$/.test(instance) ? `${base}/mod/lti/view.php?l=${instance}` : null };
  }
  const canvas = /^(.*\/courses\/\d+)(\/|$)/.exec(url.pathname);
  if (canvas) return { course: `${url.origin}${canvas[1]}`, activity: null };
  return { course: `${url.origin}/`, activity: null };
}
