import { expect } from '@jest/globals';
import { ToolSession, type LtiBrowser } from './lti-browser.js';
import type { Stack } from './stack.js';

/** Mints a token through the dev LMS test hook for a login this browser started at the tool. */
export async function mintFor(stack: Stack, authUrl: string, changes: Record<string, unknown> = {}) {
  const res = await fetch(`${stack.devlmsUrl}/__test/id-token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ authUrl, ...changes }) });
  expect(res.status).toBe(200);
  return (await res.json()) as { id_token: string; state: string; redirect_uri: string; claims: Record<string, unknown> };
}

/**
 * A launch whose token carries changed claims (another course, other roles…), signed by the dev LMS: a genuine
 * launch the LMS could have made, for setting up other tenants in tests.
 */
export async function launchWith(stack: Stack, browser: LtiBrowser, login: string, query: Record<string, string>, set: Record<string, unknown>): Promise<ToolSession> {
  const { authUrl } = await browser.startLogin(stack.devlmsUrl, login, query);
  const token = await mintFor(stack, authUrl, { set });
  const page = await browser.request(token.redirect_uri, { form: { id_token: token.id_token, state: token.state } });
  if (page.status !== 200) throw new Error(`launch with changed claims ended with ${page.status}: ${page.html.slice(0, 400)}`);
  return new ToolSession(browser, page);
}

export const OTHER_COURSE = {
  'https://purl.imsglobal.org/spec/lti/claim/context': {
    id: 'course-202',
    label: 'PHIL 202',
    title: 'Philosophy 202',
    type: ['http://purl.imsglobal.org/vocab/lis/v2/course#CourseOffering'],
  },
  'https://purl.imsglobal.org/spec/lti/claim/resource_link': { id: 'phil-202-essay', title: 'Philosophy essay' },
};

/**
 * LTI Dynamic Registration end to end: an administrator's one-time link, pasted into the dev LMS, which opens it
 * with its openid_configuration and a registration token; the tool registers itself and records the platform.
 * `becomes`: the administrator's choice for the new client — a platform of its own (a second tenant of the same
 * LMS, the default here) or another client of theirs. Returns the new client id.
 */
export async function registerByDynamicRegistration(
  stack: Stack,
  admin: ToolSession,
  note = 'Second registration',
  becomes: 'platform' | 'client' = 'platform',
): Promise<{ clientId: string; completePage: string }> {
  const invite = await admin.post('/admin/registration-invites', { note, becomes }, { htmx: true });
  expect(invite.status).toBe(200);
  const url = invite.html.match(/<code class="copyable">([^<]+)<\/code>/)?.[1];
  if (!url) throw new Error(`no registration link in ${invite.html}`);
  const browser = admin.browser;
  const start = await browser.request(`${stack.devlmsUrl}/dynamic-registration`, { form: { registration_url: url.replace(/&amp;/g, '&') } });
  expect(start.status).toBe(200);
  const frameSrc = start.html.match(/<iframe[^>]*src="([^"]+)"/)?.[1]?.replace(/&amp;/g, '&');
  if (!frameSrc) throw new Error('the dev LMS registration page has no iframe');
  const complete = await browser.request(frameSrc);
  expect(complete.status).toBe(200);
  const rows = await stack.db.db.$client.query<{ client_id: string }>('select client_id from lti_platforms order by id desc limit 1');
  return { clientId: rows.rows[0]!.client_id, completePage: complete.html };
}

/**
 * Deep linking as an instructor does it: launch "add activity" from the LMS, create a task in the tool, and let
 * the auto-submitting answer post back to the LMS, which creates the link (and its gradebook column).
 */
export async function addActivityByDeepLinking(stack: Stack, browser: LtiBrowser, options: { title: string; maxScore?: number; client?: string }): Promise<{ lmsPage: string; toolAnswer: string }> {
  const session = await browser.launch(stack.devlmsUrl, 'instructor', { message: 'deep_linking', ...(options.client ? { client: options.client } : {}) });
  expect(new URL(session.home.url).pathname).toBe('/deep-linking');
  const answer = await session.post('/deep-linking', { ltik: session.ltik, _csrf: session.csrf, taskId: 'new', title: options.title, maxScore: String(options.maxScore ?? 10) }, { csrf: false });
  expect(answer.status).toBe(200);
  const action = answer.html.match(/<form method="post" action="([^"]+)"/)?.[1]?.replace(/&amp;/g, '&');
  const jwt = answer.html.match(/name="JWT" value="([^"]+)"/)?.[1];
  if (!action || !jwt) throw new Error(`no deep-linking answer form in ${answer.html.slice(0, 300)}`);
  const lms = await browser.request(action, { form: { JWT: jwt } });
  expect(lms.status).toBe(200);
  return { lmsPage: lms.html, toolAnswer: answer.html };
}

/**
 * The people of a costs test: the home platform's administrator, instructor and student (its course-101 and a
 * second course, course-202, each with a launch), and the administrator of a second platform registered by
 * dynamic registration with an activity of its own. Returns the sessions and the second platform's client id.
 */
export async function launchTwoPlatforms(stack: Stack) {
  const admin = await stack.browser().launch(stack.devlmsUrl, 'admin');
  const instructor = await stack.browser().launch(stack.devlmsUrl, 'instructor', { task: '1' });
  const student = await stack.browser().launch(stack.devlmsUrl, 'student1', { task: '1' });
  await launchWith(stack, stack.browser(), 'instructor', { task: '1' }, OTHER_COURSE);
  const { clientId } = await registerByDynamicRegistration(stack, admin);
  await addActivityByDeepLinking(stack, stack.browser(), { title: 'Second LMS essay', client: clientId });
  const foreignAdmin = await stack.browser().launch(stack.devlmsUrl, 'admin', { client: clientId });
  return { admin, instructor, student, foreignAdmin, clientId };
}
