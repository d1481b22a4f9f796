import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { sql } from 'drizzle-orm';
import { AgsClient } from '../src/lti/ags.client.js';
import { syncRosterJob } from '../src/jobs/sync-roster.job.js';
import { rosterIsDue, ROSTER_TTL_MS } from '../src/models/tenancy/roster.service.js';
import { silentLogger } from '../src/log.js';
import { startStack, type Stack } from './helpers/stack.js';
import type { ToolSession } from './helpers/lti-browser.js';
import { createAssessment, SUBS } from './helpers/assessments.js';
import { textOf } from './helpers/html.js';
import { until } from './helpers/until.js';

/**
 * Issue 15, item 6: the README asked administrators to enable NRPS, and the tool never called it. A staff launch
 * now has a worker read the course roster (every page) so the instructor sees who has not submitted a task,
 * students included who never opened the tool.
 */
describe('the course roster from the LMS (NRPS)', () => {
  let stack: Stack;
  let instructor: ToolSession;
  let taskId: number;
  let courseId: number;
  const members = async () =>
    (await stack.db.db.execute<{ sub: string; role: string; active: boolean }>(sql`
      select u.sub, m.role, m.active from memberships m join users u on u.id = m.user_id where m.course_id = ${courseId} order by u.sub`)).rows;
  // The task view filtered to "Not submitted": the names of its rows, in order.
  const notSubmitted = () => instructor.get(`/instructor/tasks/${taskId}?status=not_submitted`);
  const missingOn = async (page: { html: string }) => [...page.html.matchAll(/<tr data-student="\d+" data-status="not_submitted">\s*<th scope="row">([^<]*)</g)].map((m) => m[1]).join(' ');
  const deps = () => ({ db: stack.db.db, logger: silentLogger, roster: new AgsClient(stack.tool.lti.lti, { timeoutMs: 2000 }) });

  beforeAll(async () => {
    stack = await startStack({ role: 'all' });
    instructor = await stack.browser().launch(stack.devlmsUrl, 'instructor', { task: '1' });
    const ids = (await stack.db.db.execute<{ id: number; course_id: number }>(sql`select id, course_id from tasks order by id limit 1`)).rows[0]!;
    taskId = Number(ids.id);
    courseId = Number(ids.course_id);
  }, 60_000);
  afterAll(async () => {
    stack?.devlms.devlms.setFaults({});
    await stack?.close();
  });

  it('reads the roster after an instructor\'s launch: students who never opened the tool are members', async () => {
    await until('the roster', async () => ((await members()).length >= 4 ? true : undefined), 15_000);
    expect(await members()).toEqual([
      { sub: SUBS.instructor, role: 'instructor', active: true },
      { sub: SUBS.student1, role: 'student', active: true },
      { sub: SUBS.student2, role: 'student', active: true },
      { sub: SUBS.student3, role: 'student', active: true },
      { sub: '8f6b2c1e-4d3a-4b5c-9e7f-1a2b3c4d5e06', role: 'instructor', active: true },
    ]);
    const names = await stack.db.db.execute<{ name: string; last_launch_at: Date | null }>(sql`select name, last_launch_at from users where sub = ${SUBS.student3}`);
    expect(names.rows).toEqual([{ name: 'Wei Chen', last_launch_at: null }]);
  });

  it('shows the instructor who has not submitted the task, and says where the list comes from', async () => {
    const page = await notSubmitted();
    expect(await missingOn(page)).toBe('Ben Carter Wei Chen Amara Okafor') // by family name;
    expect(textOf(page.html)).toContain('Not submitted (3)');
    expect(textOf(page.html)).toMatch(/From the LMS course roster, read /);
    await createAssessment(stack, { taskId, studentSub: SUBS.student2 });
    expect(await missingOn(await notSubmitted())).toBe('Wei Chen Amara Okafor');
  });

  it('marks people the LMS no longer lists, or lists as inactive, and takes back anyone who launches again', async () => {
    await stack.db.db.execute(sql`update devlms.memberships set status = 'Inactive' where login = 'student1'`);
    await stack.db.db.execute(sql`delete from devlms.memberships where login = 'student3'`);
    await syncRosterJob.handle(deps(), { courseId });
    const after = Object.fromEntries((await members()).map((m) => [m.sub, m.active]));
    expect(after).toMatchObject({ [SUBS.student1]: false, [SUBS.student2]: true, [SUBS.student3]: false, [SUBS.instructor]: true });
    expect(textOf((await notSubmitted()).html)).toContain('No student matches the filter.');
    await stack.db.db.execute(sql`update devlms.memberships set status = 'Active' where login = 'student1'`);
    await stack.browser().launch(stack.devlmsUrl, 'student1', { task: '1' });
    expect(await missingOn(await notSubmitted())).toBe('Amara Okafor');
  });

  it('leaves the roster as it was when the LMS fails, and reads every page of a long one', async () => {
    const before = await members();
    stack.devlms.devlms.setFaults({ nrps: { failNext: 1, status: 500 } });
    await expect(syncRosterJob.handle(deps(), { courseId })).resolves.toBeUndefined();
    expect(await members()).toEqual(before);
    const url = (await stack.db.db.execute<{ memberships_url: string }>(sql`select memberships_url from courses where id = ${courseId}`)).rows[0]!.memberships_url;
    const platform = { issuer: stack.devlmsUrl, clientId: 'llm-assess-dev' };
    const paged = await deps().roster.readMembers(platform, `${url}?limit=1`);
    expect(paged.map((m) => m.sub).sort()).toEqual([SUBS.instructor, SUBS.student1, SUBS.student2, '8f6b2c1e-4d3a-4b5c-9e7f-1a2b3c4d5e06'].sort());
  });

  it('asks again only when the copy is older than an hour, and never without a roster service', () => {
    const now = Date.now();
    expect(rosterIsDue({ membershipsUrl: 'https://lms/x', rosterSyncedAt: null }, now)).toBe(true);
    expect(rosterIsDue({ membershipsUrl: 'https://lms/x', rosterSyncedAt: new Date(now - ROSTER_TTL_MS + 1000) }, now)).toBe(false);
    expect(rosterIsDue({ membershipsUrl: 'https://lms/x', rosterSyncedAt: new Date(now - ROSTER_TTL_MS - 1000) }, now)).toBe(true);
    expect(rosterIsDue({ membershipsUrl: null, rosterSyncedAt: null }, now)).toBe(false);
  });
});
