import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { sql } from 'drizzle-orm';
import { startStack, type Stack } from './helpers/stack.js';
import type { ToolSession } from './helpers/lti-browser.js';
import { addActivityByDeepLinking, launchWith, OTHER_COURSE, registerByDynamicRegistration } from './helpers/launches.js';
import { listRoutes } from './helpers/routes.js';

type Who = 'student' | 'instructor' | 'administrator';

interface RouteCase {
  route: string;
  allowed: Who[];
  /** Path with ids of the home tenant's records filled in. */
  path: (ids: { taskId: number }) => string;
  body?: Record<string, string>;
  /** Routes showing one record: other tenants must get 404, not its contents. */
  tenantScoped?: boolean;
  /** Only reachable from a deep-linking launch: any other session is a 400, whatever the role. */
  deepLinkingOnly?: boolean;
}

/** Every route behind an LTI session. A route added without a line here fails the completeness test. */
const ROUTES: RouteCase[] = [
  { route: 'GET /student', allowed: ['student'], path: () => '/student' },
  { route: 'GET /student/tasks/:taskId', allowed: ['student'], path: ({ taskId }) => `/student/tasks/${taskId}`, tenantScoped: true },
  { route: 'GET /instructor', allowed: ['instructor'], path: () => '/instructor' },
  { route: 'GET /instructor/tasks/:taskId', allowed: ['instructor'], path: ({ taskId }) => `/instructor/tasks/${taskId}`, tenantScoped: true },
  { route: 'GET /admin', allowed: ['administrator'], path: () => '/admin' },
  { route: 'GET /admin/queue', allowed: ['administrator'], path: () => '/admin/queue' },
  { route: 'GET /admin/batches', allowed: ['administrator'], path: () => '/admin/batches' },
  { route: 'GET /admin/costs', allowed: ['administrator'], path: () => '/admin/costs' },
  { route: 'GET /admin/platforms', allowed: ['administrator'], path: () => '/admin/platforms' },
  { route: 'POST /admin/platforms/deployments', allowed: ['administrator'], path: () => '/admin/platforms/deployments', body: { deploymentId: 'matrix-extra' } },
  { route: 'POST /admin/platforms/deployments/remove', allowed: ['administrator'], path: () => '/admin/platforms/deployments/remove', body: { deploymentId: 'matrix-extra' } },
  { route: 'POST /admin/registration-invites', allowed: ['administrator'], path: () => '/admin/registration-invites', body: { note: 'matrix' } },
  { route: 'GET /deep-linking', allowed: ['instructor', 'administrator'], path: () => '/deep-linking', deepLinkingOnly: true },
  { route: 'POST /deep-linking', allowed: ['instructor', 'administrator'], path: () => '/deep-linking', body: { taskId: 'new', title: 'x', maxScore: '10' }, deepLinkingOnly: true },
  { route: 'GET /api/session', allowed: ['student', 'instructor', 'administrator'], path: () => '/api/session' },
];

describe('role × route matrix', () => {
  let stack: Stack;
  const sessions = {} as Record<Who, ToolSession>;
  let otherCourseInstructor: ToolSession;
  let otherCourseStudent: ToolSession;
  let otherPlatformInstructor: ToolSession;
  let otherPlatformStudent: ToolSession;
  let taskId: number;

  beforeAll(async () => {
    stack = await startStack();
    sessions.student = await stack.browser().launch(stack.devlmsUrl, 'student1', { task: '1' });
    sessions.instructor = await stack.browser().launch(stack.devlmsUrl, 'instructor', { task: '1' });
    sessions.administrator = await stack.browser().launch(stack.devlmsUrl, 'admin');
    otherCourseInstructor = await launchWith(stack, stack.browser(), 'instructor', { task: '1' }, OTHER_COURSE);
    otherCourseStudent = await launchWith(stack, stack.browser(), 'student2', { task: '1' }, OTHER_COURSE);
    const { clientId } = await registerByDynamicRegistration(stack, sessions.administrator);
    await addActivityByDeepLinking(stack, stack.browser(), { title: 'Second LMS essay', client: clientId });
    otherPlatformInstructor = await stack.browser().launch(stack.devlmsUrl, 'instructor', { task: '1', client: clientId });
    otherPlatformStudent = await stack.browser().launch(stack.devlmsUrl, 'student1', { task: '1', client: clientId });
    const rows = await stack.db.db.execute<{ id: number }>(sql`
      select t.id from tasks t join courses c on c.id = t.course_id join lti_platforms p on p.id = c.platform_id
      where c.context_id = 'course-101' and p.client_id = 'llm-assess-dev' order by t.id limit 1`);
    taskId = rows.rows[0]!.id;
  }, 60_000);
  afterAll(async () => {
    await stack?.close();
  });

  it('covers every route behind a session', () => {
    expect(listRoutes(stack.tool.tool!.sessionRouter)).toEqual(ROUTES.map((r) => r.route).sort());
  });

  const send = (session: ToolSession, c: RouteCase) =>
    c.body ? session.post(c.path({ taskId }), c.body, { htmx: true }) : session.get(c.path({ taskId }));

  describe.each(ROUTES.map((c) => [c.route, c] as const))('%s', (_name, c) => {
    it.each(['student', 'instructor', 'administrator'] as Who[])('as %s', async (who) => {
      const res = await send(sessions[who], c);
      if (!c.allowed.includes(who)) {
        expect(res.status).toBe(403);
        return;
      }
      expect(res.status).toBe(c.deepLinkingOnly ? 400 : 200);
    });

    if (c.tenantScoped) {
      it('from another course of the same platform, and from another platform: not found', async () => {
        const [other, otherStudent, foreign, foreignStudent] = [otherCourseInstructor, otherCourseStudent, otherPlatformInstructor, otherPlatformStudent];
        for (const s of c.allowed.includes('student') ? [otherStudent, foreignStudent] : [other, foreign]) {
          const res = await send(s, c);
          expect(res.status).toBe(404);
          expect(res.html).not.toContain('Causes of the French Revolution');
        }
      });
    }
  });

  it('shows each tenant only its own tasks and statistics', async () => {
    const home = await otherCourseInstructor.get('/instructor');
    expect(home.html).toContain('Philosophy essay');
    expect(home.html).not.toContain('French Revolution');
    const foreignHome = await otherPlatformInstructor.get('/instructor');
    expect(foreignHome.status).toBe(200);
    const courses = await stack.db.db.execute<{ n: number }>(sql`select count(distinct platform_id)::int as n from courses`);
    expect(courses.rows[0]!.n).toBe(2);
  });

  it('refuses state-changing requests without the CSRF token, and changes nothing', async () => {
    const before = await stack.db.db.execute<{ n: number }>(sql`select count(*)::int as n from lti_deployments`);
    const noToken = await sessions.administrator.post('/admin/platforms/deployments', { deploymentId: 'csrf-probe' }, { csrf: false });
    expect(noToken.status).toBe(403);
    expect(noToken.html).toContain('security token');
    const wrongToken = await sessions.administrator.request('/admin/platforms/deployments', { method: 'POST', form: { deploymentId: 'csrf-probe', _csrf: 'forged' }, csrf: false });
    expect(wrongToken.status).toBe(403);
    // A token from another session does not work either.
    const crossSession = await sessions.administrator.request('/admin/platforms/deployments', { method: 'POST', form: { deploymentId: 'csrf-probe' }, csrf: false, headers: { 'x-csrf-token': sessions.student.csrf } });
    expect(crossSession.status).toBe(403);
    const after = await stack.db.db.execute<{ n: number }>(sql`select count(*)::int as n from lti_deployments`);
    expect(after.rows[0]!.n).toBe(before.rows[0]!.n);
    // The hidden form field works as well as the header.
    const viaField = await sessions.administrator.request('/admin/platforms/deployments', { method: 'POST', form: { deploymentId: 'csrf-field', _csrf: sessions.administrator.csrf }, csrf: false });
    expect(viaField.status).toBe(200);
  });

  it('answers malformed input with a clear error and changes nothing', async () => {
    const before = await stack.db.db.execute<{ n: number }>(sql`select count(*)::int as n from lti_deployments`);
    const empty = await sessions.administrator.post('/admin/platforms/deployments', { deploymentId: '   ' }, { htmx: true });
    expect(empty.status).toBe(422);
    expect(empty.html).toContain('A deployment id is required.');
    expect(empty.html).toContain('aria-invalid="true"');
    const broken = await sessions.administrator.request('/admin/platforms/deployments', { method: 'POST', headers: { 'content-type': 'application/json' }, json: undefined, form: undefined });
    expect([400, 422]).toContain(broken.status);
    const badJson = await fetch(`${stack.toolUrl}/api/session`, { method: 'POST', headers: { authorization: `Bearer ${sessions.student.ltik}`, 'content-type': 'application/json', cookie: sessions.student.browser.jar.header(stack.toolUrl), 'x-csrf-token': sessions.student.csrf }, body: '{"not json' });
    expect(badJson.status).toBe(400);
    expect(((await badJson.json()) as { error: { code: string } }).error.code).toBe('malformed_body');
    const unknownTask = await sessions.student.get('/student/tasks/not-a-number');
    expect(unknownTask.status).toBe(404);
    const after = await stack.db.db.execute<{ n: number }>(sql`select count(*)::int as n from lti_deployments`);
    expect(after.rows[0]!.n).toBe(before.rows[0]!.n);
  });

  it('answers errors to the JSON API as JSON, with the right status', async () => {
    const res = await sessions.student.get('/api/nope');
    expect(res.status).toBe(404);
    expect(res.json()).toEqual({ error: { code: 'not_found', message: 'The page was not found.' } });
    const denied = await fetch(`${stack.toolUrl}/api/session`);
    expect(denied.status).toBe(401);
    expect(((await denied.json()) as { error: { code: string } }).error.code).toBe('no_session');
  });
});
