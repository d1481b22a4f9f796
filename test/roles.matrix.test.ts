import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { sql } from 'drizzle-orm';
import { startStack, type Stack } from './helpers/stack.js';
import type { ToolSession } from './helpers/lti-browser.js';
import { addActivityByDeepLinking, launchWith, OTHER_COURSE, registerByDynamicRegistration } from './helpers/launches.js';
import { listRoutes } from './helpers/routes.js';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { MatrixArea, MatrixContext, RouteCase, Who } from './matrix/types.js';
import { matrixHome } from './matrix/home.js';

/**
 * Every route behind an LTI session × every role, and other tenants against tenant-scoped routes. The cases
 * live per area in test/matrix/*.area.ts; a route without a case fails the completeness test.
 */
const areaFiles = readdirSync(fileURLToPath(new URL('./matrix', import.meta.url))).filter((f) => f.endsWith('.area.ts')).sort();
const AREAS: MatrixArea[] = [];
for (const file of areaFiles) AREAS.push(((await import(`./matrix/${file.replace(/\.ts$/, '.js')}`)) as { default: MatrixArea }).default);
const ROUTES: Array<RouteCase & { area: MatrixArea }> = AREAS.flatMap((area) => area.routes.map((r) => ({ ...r, area })));

describe('role × route matrix', () => {
  let stack: Stack;
  const sessions = {} as Record<Who, ToolSession>;
  let otherCourseInstructor: ToolSession;
  let otherCourseStudent: ToolSession;
  let otherPlatformInstructor: ToolSession;
  let otherPlatformStudent: ToolSession;
  let otherPlatformAdmin: ToolSession;
  let ctx: MatrixContext;
  const ids = new Map<MatrixArea, Record<string, number | string>>();

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
    otherPlatformAdmin = await stack.browser().launch(stack.devlmsUrl, 'admin', { client: clientId });
    ctx = { stack, sessions, home: await matrixHome(stack) };
    for (const area of AREAS) ids.set(area, { ...ctx.home, ...(area.setup ? await area.setup(ctx) : {}) });
  }, 120_000);
  afterAll(async () => {
    await stack?.close();
  });

  it('covers every route behind a session', () => {
    expect(listRoutes(stack.tool.tool!.sessionRouter)).toEqual(ROUTES.map((r) => r.route).sort());
  });

  const send = (session: ToolSession, c: RouteCase, values: Record<string, number | string>) => {
    const target = c.path(values);
    const method = c.route.split(' ')[0]!;
    if (c.json !== undefined) return session.request(target, { method, json: c.json });
    if (c.form) return session.request(target, { method, form: c.form, htmx: true });
    return session.request(target, { method });
  };

  describe.each(ROUTES.map((c) => [`${c.area.name}: ${c.route}`, c] as const))('%s', (_name, c) => {
    it.each(['student', 'instructor', 'administrator'] as Who[])('as %s', async (who) => {
      const values = c.fresh && c.allowed.includes(who) ? { ...ids.get(c.area)!, ...(await c.fresh(ctx, who)) } : ids.get(c.area)!;
      const res = await send(sessions[who], c, values);
      if (!c.allowed.includes(who)) {
        expect(res.status).toBe(403);
        return;
      }
      expect(res.status).toBe(c.deepLinkingOnly ? 400 : (c.okStatus ?? 200));
    });

    if (c.tenantScoped) {
      it('from another course of the same platform, and from another platform: not found', async () => {
        const values = c.fresh ? { ...ids.get(c.area)!, ...(await c.fresh(ctx)) } : ids.get(c.area)!;
        // Students and instructors are scoped to a course, administrators to a platform.
        const strangers = c.allowed.includes('student')
          ? [otherCourseStudent, otherPlatformStudent]
          : c.allowed.includes('instructor')
            ? [otherCourseInstructor, otherPlatformInstructor]
            : [otherPlatformAdmin];
        for (const s of strangers) {
          const res = await send(s, c, values);
          expect(res.status).toBe(404);
          expect(res.html).not.toContain('Causes of the French Revolution');
        }
      });
    }
  });

  // A browser without JavaScript (or before htmx loads) posts forms as plain forms: every form route answers with
  // the whole page, never a fragment or a 500.
  describe.each(ROUTES.filter((c) => c.form && !c.deepLinkingOnly).map((c) => [`${c.area.name}: ${c.route}`, c] as const))('%s without htmx', (_name, c) => {
    it('answers a plain form post with a whole page', async () => {
      const who = c.allowed[0]!;
      const values = c.fresh ? { ...ids.get(c.area)!, ...(await c.fresh(ctx, who)) } : ids.get(c.area)!;
      const res = await sessions[who].request(c.path(values), { method: c.route.split(' ')[0]!, form: { ...c.form!, _csrf: sessions[who].csrf }, csrf: false });
      expect(res.status).toBeLessThan(500);
      if (res.status < 300 || res.status === 422) expect(res.html).toMatch(/^<!doctype html>/i);
    });
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
    expect([400, 415, 422]).toContain(broken.status);
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
