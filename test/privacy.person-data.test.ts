import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { sql } from 'drizzle-orm';
import { carryOutErasures } from '../src/models/privacy/person-data.service.js';
import { startStack, testEnv, type Stack } from './helpers/stack.js';
import { freePort } from './helpers/ports.js';
import type { ToolSession } from './helpers/lti-browser.js';
import { textOf } from './helpers/html.js';
import { createAssessment, SUBS } from './helpers/assessments.js';
import { homeIds } from './helpers/queue-fixtures.js';

/**
 * Issue 17, item 6: a person's data, exported and deleted. Deleting one student erases their texts, what was
 * written about them and who they are, and leaves the other students' data and every aggregate as it was.
 */
describe('a person\'s data: export and deletion', () => {
  let stack: Stack;
  let admin: ToolSession;
  let instructor: ToolSession;
  let student1: ToolSession;
  let student2: ToolSession;
  let home: Awaited<ReturnType<typeof homeIds>>;
  const db = () => stack.db.db;
  const userIdOf = async (sub: string) => Number((await db().execute<{ id: number }>(sql`select id from users where sub = ${sub}`)).rows[0]!.id);
  const aggregates = async () =>
    (await db().execute<{ assessments: number; score_sum: string; override_sum: string | null; ledger: string; submissions: number }>(sql`
      select (select count(*)::int from assessments where course_id = ${home.courseId}) as assessments,
             (select sum(score)::text from assessments where course_id = ${home.courseId}) as score_sum,
             (select sum(override_score)::text from assessments where course_id = ${home.courseId}) as override_sum,
             (select coalesce(sum(amount_micros), 0)::text from cost_ledger) as ledger,
             (select count(*)::int from submissions where course_id = ${home.courseId}) as submissions`)).rows[0]!;

  beforeAll(async () => {
    stack = await startStack();
    admin = await stack.browser().launch(stack.devlmsUrl, 'admin');
    instructor = await stack.browser().launch(stack.devlmsUrl, 'instructor', { task: '1' });
    student1 = await stack.browser().launch(stack.devlmsUrl, 'student1', { task: '1' });
    student2 = await stack.browser().launch(stack.devlmsUrl, 'student2', { task: '1' });
    home = await homeIds(stack);
  }, 60_000);
  afterAll(async () => {
    await stack?.close();
  });

  it('lets a student see and download what is held about them: released results only, without the grader-only reasoning', async () => {
    const released = await createAssessment(stack, { taskId: home.taskId, studentSub: SUBS.student1, text: 'Student one wrote about the Estates-General.' });
    await db().execute(sql`update assessments set review_status = 'approved', decision_seq = 1, reviewed_at = now(), released_at = now() where id = ${released.id}`);
    const pending = await createAssessment(stack, { taskId: home.taskId, studentSub: SUBS.student1 });
    const page = await student1.get('/student/my-data');
    expect(page.status).toBe(200);
    expect(textOf(page.html)).toContain('2 submission(s), 1 assessment(s)');
    const json = await student1.get('/student/my-data.json');
    expect(json.status).toBe(200);
    const data = JSON.parse(json.html) as { person: { lmsUserId: string }; submissions: Array<{ text: string }>; assessments: Array<{ id: number; aiResult: Record<string, unknown>; overrideReason?: string }> };
    expect(data.person.lmsUserId).toBe(SUBS.student1);
    expect(data.submissions.map((s) => s.text)).toContain('Student one wrote about the Estates-General.');
    expect(data.assessments.map((a) => a.id)).toEqual([released.id]);
    expect(data.assessments[0]!.aiResult).not.toHaveProperty('reasoning');
    expect(data.assessments[0]!.aiResult).toHaveProperty('comments');
    expect(pending.id).toBeGreaterThan(released.id);
  });

  it('gives the administrator everything, as JSON and as a page to read; never a person of another platform', async () => {
    const id = await userIdOf(SUBS.student1);
    // A reviewer's override: its texts are stored encrypted, and the export reads them.
    const pending = Number((await db().execute<{ id: number }>(sql`select max(a.id) as id from assessments a join submissions s on s.id = a.submission_id where s.student_id = ${id}`)).rows[0]!.id);
    const override = await instructor.request(`/api/llm-assessments/${pending}/review/`, { method: 'POST', json: { action: 'override', decisionSeq: 0, score: 50, category: 'other', reason: 'Sources too thin.', feedback: 'See me about sources.' } });
    expect(override.status).toBe(200);
    const json = await admin.get(`/admin/people/${id}/export.json`);
    const data = JSON.parse(json.html) as { assessments: Array<{ aiResult: Record<string, unknown>; instructorFeedback: string | null; overrideReason: string | null }>; person: { name: string } };
    expect(data.assessments).toHaveLength(2);
    expect(data.assessments[1]).toMatchObject({ instructorFeedback: 'See me about sources.', overrideReason: 'Sources too thin.' });
    expect(data.assessments[0]!.aiResult).toHaveProperty('reasoning');
    const readable = await admin.get(`/admin/people/${id}/export`);
    expect(textOf(readable.html)).toContain('Student one wrote about the Estates-General.');
    expect(textOf(readable.html)).toContain(`Data held about ${data.person.name}`);
    const found = await admin.get('/admin/people?q=Amara');
    expect(textOf(found.html)).toContain(data.person.name);
    expect((await admin.get('/admin/people/999999')).status).toBe(404);
  });

  it('sends a student\'s request to the administrators, once; an administrator can decline it', async () => {
    const asked = await student2.post('/student/my-data/erasure', {}, { htmx: true });
    expect(asked.status).toBe(200);
    expect(textOf(asked.html)).toContain('Your request was sent to the administrators');
    const again = await student2.post('/student/my-data/erasure', {}, { htmx: true });
    expect(textOf(again.html)).toContain('Your request is already with the administrators.');
    expect(Number((await db().execute<{ n: number }>(sql`select count(*)::int as n from person_requests`)).rows[0]!.n)).toBe(1);
    const overview = await admin.get('/admin');
    expect(textOf(overview.html)).toContain('A student asked for their data to be deleted');
    const people = await admin.get('/admin/people');
    expect(textOf(people.html)).toContain('waiting for your decision');
    const request = Number((await db().execute<{ id: number }>(sql`select id from person_requests`)).rows[0]!.id);
    const declined = await admin.post(`/admin/people/requests/${request}/decline`, {}, { htmx: true });
    expect(textOf(declined.html)).toContain('Request declined.');
    expect((await db().execute<{ status: string }>(sql`select status from person_requests where id = ${request}`)).rows[0]!.status).toBe('declined');
    expect((await admin.post(`/admin/people/requests/${request}/decline`, {}, { htmx: true })).status).toBe(404);
  });

  it('asks the administrator to confirm (422, nothing scheduled), and refuses to delete their own data', async () => {
    const id = await userIdOf(SUBS.student1);
    const unconfirmed = await admin.post(`/admin/people/${id}/erase`, {}, { htmx: true });
    expect(unconfirmed.status).toBe(422);
    expect(unconfirmed.html).toContain('id="erase-confirm-error"');
    expect(Number((await db().execute<{ n: number }>(sql`select count(*)::int as n from person_requests where user_id = ${id}`)).rows[0]!.n)).toBe(0);
    const adminId = Number((await db().execute<{ id: number }>(sql`select id from users where name = 'Dana Whitfield'`)).rows[0]!.id);
    const own = await admin.post(`/admin/people/${adminId}/erase`, { confirm: 'yes' }, { htmx: true });
    expect(own.status).toBe(409);
    expect(textOf(own.html)).toContain('Ask another administrator to delete your own data');
  });

  it('deletes one student: their texts, feedback, memberships, name and session go; the others\' data and every aggregate stay', async () => {
    const id = await userIdOf(SUBS.student1);
    const other = await createAssessment(stack, { taskId: home.taskId, studentSub: SUBS.student2, text: 'Student two on the Tennis Court Oath.' });
    const queued = await createAssessment(stack, { taskId: home.taskId, studentSub: SUBS.student1 });
    await db().execute(sql`update queue_items set status = 'queued' where id = ${queued.queueItemId}`);
    await db().execute(sql`delete from assessments where id = ${queued.id}`).catch(() => undefined);
    const before = await aggregates();
    const tokensBefore = Number((await db().execute<{ n: number }>(sql`select count(*)::int as n from idtokens where "user" = ${SUBS.student1}`)).rows[0]!.n);
    expect(tokensBefore).toBeGreaterThan(0);
    // E-mail written to them (a digest has no notice of its own) and their e-mail choices.
    await db().execute(sql`insert into email_outbox (platform_id, user_id, kind, to_address, subject, body, status) select platform_id, id, 'digest', 'amara.okafor@example.edu', 'Digest', 'Text', 'sent' from users where id = ${id}`);
    await db().execute(sql`insert into notification_preferences (user_id, email_frequency) values (${id}, 'daily')`);

    const scheduled = await admin.post(`/admin/people/${id}/erase`, { confirm: 'yes' }, { htmx: true });
    expect(scheduled.status).toBe(200);
    expect(textOf(scheduled.html)).toContain('Deletion scheduled');
    const run = await carryOutErasures(db());
    expect(run).toEqual({ completed: 1, waiting: 0 });

    const person = (await db().execute<{ name: string | null; email: string | null; sub: string; erased_at: Date | null }>(sql`select name, email, sub, erased_at from users where id = ${id}`)).rows[0]!;
    expect(person).toMatchObject({ name: null, email: null, sub: `erased:${id}` });
    expect(person.erased_at).not.toBeNull();
    const texts = await db().execute<{ n: number }>(sql`select count(*)::int as n from submissions where student_id = ${id} and content is not null`);
    expect(texts.rows[0]!.n).toBe(0);
    const feedback = await db().execute<{ n: number }>(sql`
      select count(*)::int as n from assessments a join submissions s on s.id = a.submission_id where s.student_id = ${id} and (a.result ? 'comments' or a.raw_output is not null)`);
    expect(feedback.rows[0]!.n).toBe(0);
    expect((await db().execute<{ status: string }>(sql`select status from queue_items where id = ${queued.queueItemId}`)).rows[0]!.status).toBe('skipped');
    expect(Number((await db().execute<{ n: number }>(sql`select count(*)::int as n from memberships where user_id = ${id}`)).rows[0]!.n)).toBe(0);
    expect(Number((await db().execute<{ n: number }>(sql`select (select count(*) from email_outbox where user_id = ${id}) + (select count(*) from notification_preferences where user_id = ${id}) as n`)).rows[0]!.n)).toBe(0);
    expect(Number((await db().execute<{ n: number }>(sql`select count(*)::int as n from idtokens where "user" = ${SUBS.student1}`)).rows[0]!.n)).toBe(0);

    // Student two's text and name are untouched; counts and sums are as they were.
    const otherRow = (await db().execute<{ content: Buffer | null }>(sql`select content from submissions where id = ${other.submissionId}`)).rows[0]!;
    expect(otherRow.content).not.toBeNull();
    expect((await db().execute<{ name: string | null }>(sql`select name from users where sub = ${SUBS.student2}`)).rows[0]!.name).not.toBeNull();
    expect(await aggregates()).toEqual(before);
    const audit = (await db().execute<{ details: Record<string, number> }>(sql`select details from audit_log where action = 'person.erased'`)).rows[0]!;
    expect(audit.details).toMatchObject({ submissions: 3, queueItemsSkipped: 1 });

    // The old session is gone; launching again makes a new person.
    expect((await student1.get('/student')).status).toBe(401);
    await stack.browser().launch(stack.devlmsUrl, 'student1', { task: '1' });
    expect(await userIdOf(SUBS.student1)).not.toBe(id);
  });

  it('waits for work that is at a provider, and deletes it once that batch has ended', async () => {
    const id = await userIdOf(SUBS.student2);
    const inFlight = await createAssessment(stack, { taskId: home.taskId, studentSub: SUBS.student2 });
    await db().execute(sql`update queue_items set status = 'processing' where id = ${inFlight.queueItemId}`);
    const scheduled = await admin.post(`/admin/people/${id}/erase`, { confirm: 'yes' }, { htmx: true });
    expect(scheduled.status).toBe(200);
    expect(await carryOutErasures(db())).toEqual({ completed: 0, waiting: 1 });
    expect((await db().execute<{ status: string }>(sql`select status from person_requests where user_id = ${id} order by id desc limit 1`)).rows[0]!.status).toBe('scheduled');
    await db().execute(sql`update queue_items set status = 'completed' where id = ${inFlight.queueItemId}`);
    expect(await carryOutErasures(db())).toEqual({ completed: 1, waiting: 0 });
    const page = await admin.get(`/admin/people/${id}`);
    expect(textOf(page.html)).toMatch(/Deleted on .* Request #\d+ completed\./);
  });

  it('offers the same through the JSON API: the export, and a deletion that answers 202', async () => {
    await stack.browser().launch(stack.devlmsUrl, 'student3', { task: '1' });
    const id = await userIdOf(SUBS.student3);
    const exported = await admin.get(`/api/people/${id}/export/`);
    expect(exported.status).toBe(200);
    expect((JSON.parse(exported.html) as { person: { lmsUserId: string } }).person.lmsUserId).toBe(SUBS.student3);
    const deleted = await admin.request(`/api/people/${id}/`, { method: 'DELETE', json: {} });
    expect(deleted.status).toBe(202);
    expect(JSON.parse(deleted.html)).toMatchObject({ status: 'scheduled' });
    expect((await admin.request('/api/people/999999/', { method: 'DELETE', json: {} })).status).toBe(404);
  });

  describe('the privacy CLI', () => {
    const run = promisify(execFile);
    const cli = async (args: string[]) => {
      const env = { ...process.env, ...testEnv(stack.db, await freePort()) };
      try {
        const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', 'src/cli/privacy.ts', ...args], { env, timeout: 60_000 });
        return { code: 0, stdout, stderr };
      } catch (err) {
        const e = err as { code: number; stdout: string; stderr: string };
        return { code: e.code, stdout: e.stdout, stderr: e.stderr };
      }
    };

    it('exports and deletes a person named by platform and LMS user id; refuses what it cannot find', async () => {
      await stack.browser().launch(stack.devlmsUrl, 'student2', { task: '1' });
      const exported = await cli(['export', '--platform', String(home.platformId), '--sub', SUBS.student2]);
      expect(exported.code).toBe(0);
      expect((JSON.parse(exported.stdout) as { person: { lmsUserId: string } }).person.lmsUserId).toBe(SUBS.student2);
      const missing = await cli(['export', '--platform', String(home.platformId), '--sub', 'nobody']);
      expect(missing.code).toBe(1);
      expect(missing.stderr).toContain('A person with LMS user id nobody on platform');
      const usage = await cli(['delete', '--sub', SUBS.student2]);
      expect(usage.code).toBe(1);
      expect(usage.stderr).toContain('--platform <id> and --sub <LMS user id> are required.');
      const deleted = await cli(['delete', '--platform', String(home.platformId), '--sub', SUBS.student2]);
      expect(deleted.stdout).toMatch(/Request \d+: the person's data was deleted\./);
      const verify = await cli(['verify-audit']);
      expect(verify.code).toBe(0);
      expect(verify.stdout).toContain('The audit log is intact');
    }, 120_000);
  });
});
