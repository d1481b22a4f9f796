import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { sql } from 'drizzle-orm';
import { startStack, type Stack, type StackOptions } from '../helpers/stack.js';
import type { ToolSession } from '../helpers/lti-browser.js';
import { addActivityByDeepLinking, launchWith, OTHER_COURSE, registerByDynamicRegistration } from '../helpers/launches.js';
import { listRoutes } from '../helpers/routes.js';
import type { MatrixArea, MatrixContext, RouteCase, Who } from '../matrix/types.js';
import { matrixHome } from '../matrix/home.js';

/**
 * The world the security suite probes: the role × route matrix's areas (test/matrix/*.area.ts, so every route the
 * app declares is covered the day its area lists it), a home tenant with a session per role and the records each
 * area's setup makes, another course of the same platform and a second platform (dynamic registration), each with
 * its own sessions. Each test file starts one world (its own stack and database) in its beforeAll.
 */

const areaDir = fileURLToPath(new URL('../matrix', import.meta.url));
const areaFiles = readdirSync(areaDir).filter((f) => f.endsWith('.area.ts')).sort();
export const AREAS: MatrixArea[] = [];
for (const file of areaFiles) AREAS.push(((await import(`../matrix/${file.replace(/\.ts$/, '.js')}`)) as { default: MatrixArea }).default);

export type Case = RouteCase & { area: MatrixArea };
export const CASES: Case[] = AREAS.flatMap((area) => area.routes.map((r) => ({ ...r, area })));

export const methodOf = (c: Pick<RouteCase, 'route'>): string => c.route.split(' ')[0]!;
export const patternOf = (c: Pick<RouteCase, 'route'>): string => c.route.split(' ')[1]!;
/** The `:param` names of a route pattern. */
export const paramsOf = (c: Pick<RouteCase, 'route'>): string[] => [...patternOf(c).matchAll(/:(\w+)/g)].map((m) => m[1]!);

/**
 * Rate limits far above what the probes send: the suite probes validation, tenancy and CSRF, which a limit would
 * otherwise answer first with a 429 (rate limits have their own tests).
 */
export const GENEROUS_LIMITS: Record<string, string> = {
  RATE_LIMIT_LTI_LAUNCHES_PER_MINUTE: '100000',
  RATE_LIMIT_LTI_REGISTRATIONS_PER_MINUTE: '100000',
  RATE_LIMIT_SUBMISSIONS_PER_MINUTE: '100000',
  RATE_LIMIT_SAMPLE_TESTS_PER_MINUTE: '100000',
  RATE_LIMIT_COURSE_SAMPLE_TESTS_PER_MINUTE: '100000',
  RATE_LIMIT_API_WRITES_PER_MINUTE: '100000',
};

/**
 * POST routes whose matrix sample stores nothing: a preview (of a prompt, of a submission's file), the rubric editor's add-a-row, and samples refused on
 * purpose (a copy to task 0, bulk approval, an emergency override or an allocation move of ids that do not exist). Every other route's sample must change
 * the database when the token is right (a test on samples writes its real-time spend to the cost ledger).
 */
export const READ_ONLY = new Set([
  'POST /instructor/tasks/:taskId/prompt/rubric',
  'POST /instructor/tasks/:taskId/prompt/preview',
  'POST /student/tasks/:taskId/submissions/preview',
  'POST /instructor/tasks/:taskId/prompt/copy',
  'POST /admin/costs/override',
  'POST /admin/costs/budgets/move',
  'POST /instructor/review/bulk-approve',
]);

/** Text that only the home tenant's records carry: a response to anyone else must contain none of it. */
export const HOME_SECRET = 'HOME-SECRET';

export interface Stranger {
  label: string;
  who: Who;
  session: ToolSession;
  /** The tenant's own task (the one its people launched into): for probes that mix own and home ids. */
  ownTaskId: number;
}

export interface World {
  stack: Stack;
  ctx: MatrixContext;
  sessions: Record<Who, ToolSession>;
  /** People of other tenants: another course of the home platform, and a second platform. */
  strangers: Stranger[];
  /** Ids per area (home ids + what the area's setup returned). */
  ids: Map<MatrixArea, Record<string, number | string>>;
  /** Every string of the home tenant that must never reach a stranger (titles, notes, planted markers). */
  homeSecrets: string[];
  /** Every route of the session router, as `METHOD /pattern`. */
  declaredRoutes(): string[];
  /** The values of a case, with a fresh record when the case needs one for a success (`fresh`). */
  values(c: Case, fresh?: boolean): Promise<Record<string, number | string>>;
  close(): Promise<void>;
}

/** Starts the stack, launches everyone, runs the areas' setup and marks the home tenant's records. */
export async function startWorld(options: StackOptions = {}): Promise<World> {
  const env = options.env;
  const stack = await startStack({ ...options, env: (urls) => ({ ...GENEROUS_LIMITS, ...(typeof env === 'function' ? env(urls) : (env ?? {})) }) });
  try {
    const sessions = {} as Record<Who, ToolSession>;
    sessions.student = await stack.browser().launch(stack.devlmsUrl, 'student1', { task: '1' });
    sessions.instructor = await stack.browser().launch(stack.devlmsUrl, 'instructor', { task: '1' });
    sessions.administrator = await stack.browser().launch(stack.devlmsUrl, 'admin');
    const otherCourseInstructor = await launchWith(stack, stack.browser(), 'instructor', { task: '1' }, OTHER_COURSE);
    const otherCourseStudent = await launchWith(stack, stack.browser(), 'student2', { task: '1' }, OTHER_COURSE);
    const { clientId } = await registerByDynamicRegistration(stack, sessions.administrator);
    await addActivityByDeepLinking(stack, stack.browser(), { title: 'Second LMS essay', client: clientId });
    const otherPlatformInstructor = await stack.browser().launch(stack.devlmsUrl, 'instructor', { task: '1', client: clientId });
    const otherPlatformStudent = await stack.browser().launch(stack.devlmsUrl, 'student1', { task: '1', client: clientId });
    const otherPlatformAdmin = await stack.browser().launch(stack.devlmsUrl, 'admin', { client: clientId });
    const taskOf = async (where: ReturnType<typeof sql>) => Number((await stack.db.db.execute<{ id: number }>(sql`select min(t.id) as id from tasks t join courses c on c.id = t.course_id join lti_platforms p on p.id = c.platform_id where ${where}`)).rows[0]!.id);
    const otherCourseTask = await taskOf(sql`c.context_id = ${OTHER_COURSE['https://purl.imsglobal.org/spec/lti/claim/context'].id}`);
    const otherPlatformTask = await taskOf(sql`p.client_id = ${clientId}`);
    const strangers: Stranger[] = [
      { label: 'student of another course', who: 'student', session: otherCourseStudent, ownTaskId: otherCourseTask },
      { label: 'instructor of another course', who: 'instructor', session: otherCourseInstructor, ownTaskId: otherCourseTask },
      { label: 'student of another platform', who: 'student', session: otherPlatformStudent, ownTaskId: otherPlatformTask },
      { label: 'instructor of another platform', who: 'instructor', session: otherPlatformInstructor, ownTaskId: otherPlatformTask },
      { label: 'administrator of another platform', who: 'administrator', session: otherPlatformAdmin, ownTaskId: otherPlatformTask },
    ];

    const ctx: MatrixContext = {
      stack,
      sessions,
      home: await matrixHome(stack),
    };
    const ids = new Map<MatrixArea, Record<string, number | string>>();
    for (const area of AREAS) ids.set(area, { ...ctx.home, ...(area.setup ? await area.setup(ctx) : {}) });
    const homeSecrets = await markHomeRecords(stack, ctx.home);

    return {
      stack,
      ctx,
      sessions,
      strangers,
      ids,
      homeSecrets,
      declaredRoutes: () => listRoutes(stack.tool.tool!.sessionRouter),
      async values(c, fresh = true) {
        const base = ids.get(c.area)!;
        return fresh && c.fresh ? { ...base, ...(await c.fresh(ctx)) } : base;
      },
      close: () => stack.close(),
    };
  } catch (err) {
    await stack.close();
    throw err;
  }
}

/**
 * Writes a marker into the free-text columns of the home tenant's records (task descriptions, batch and queue
 * notes, notifications, prompt notes, course template names) and returns every string a stranger must not see:
 * those markers plus the home course's and tasks' titles.
 */
async function markHomeRecords(stack: Stack, home: MatrixContext['home']): Promise<string[]> {
  const db = stack.db.db;
  await db.execute(sql`update tasks set description = ${HOME_SECRET} || '-task-' || id where course_id = ${home.courseId}`);
  await db.execute(sql`update batches set notes = ${HOME_SECRET} || '-batch-' || id where platform_id = ${home.platformId}`);
  await db.execute(sql`update queue_items set admin_notes = ${HOME_SECRET} || '-item-' || id where platform_id = ${home.platformId}`);
  await db.execute(sql`update notifications set title = ${HOME_SECRET} || '-notice-' || id, body = ${HOME_SECRET} || '-notice-body' where platform_id = ${home.platformId}`);
  await db.execute(sql`update prompt_versions set note = ${HOME_SECRET} || '-version-' || id where prompt_id in (select p.id from prompts p join tasks t on t.id = p.task_id where t.course_id = ${home.courseId})`);
  await db.execute(sql`update prompt_templates set name = ${HOME_SECRET} || '-template-' || id where course_id = ${home.courseId}`);
  const titles = await db.execute<{ title: string }>(sql`
    select title from tasks where course_id = ${home.courseId}
    union select title from courses where id = ${home.courseId}`);
  // Titles a stranger's own records share (the dev LMS gives every platform the same link titles) are not secrets.
  const shared = await db.execute<{ title: string }>(sql`
    select t.title from tasks t join courses c on c.id = t.course_id where t.course_id <> ${home.courseId}
    union select title from courses where id <> ${home.courseId}`);
  const notMine = new Set(shared.rows.map((r) => r.title));
  return [HOME_SECRET, ...titles.rows.map((r) => r.title).filter((t) => t.length >= 8 && !notMine.has(t))];
}

/**
 * What a stranger's answer must not contain: for a refusal of a record (403, 404) nothing of the home tenant at all;
 * for anything else (their own record, their own form shown again) no planted marker. Home titles are not secret
 * then: the other course's instructor teaches the home course too and sees its tasks as copy targets, by design.
 */
export function secretsFor(status: number, all: readonly string[]): readonly string[] {
  return status === 403 || status === 404 ? all : [HOME_SECRET];
}

/** The secrets a body carries (none, for a body that leaks nothing). */
export function leaked(body: string, secrets: readonly string[]): string[] {
  const text = body.replace(/&amp;/g, '&').replace(/&#39;/g, "'").replace(/&#34;|&quot;/g, '"');
  return secrets.filter((s) => text.includes(s));
}

/** Sends a case's sample request (form bodies as htmx requests, JSON to the API) with the given session. */
export function sendCase(session: ToolSession, c: RouteCase, values: Record<string, number | string>, extra: { headers?: Record<string, string>; csrf?: boolean } = {}) {
  const target = c.path(values);
  const method = methodOf(c);
  if (c.json !== undefined) return session.request(target, { method, json: c.json, ...extra });
  if (c.form) return session.request(target, { method, form: c.form, htmx: true, ...extra });
  return session.request(target, { method, ...extra });
}
