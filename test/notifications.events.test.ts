import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { sql } from 'drizzle-orm';
import type { Config } from '../src/config.js';
import { startEmulator, type RunningEmulator } from '../src/emulator/index.js';
import type { BatchWorker } from '../src/models/batches/batch-worker.js';
import { createBatches, requestSubmit } from '../src/models/batches/batches.service.js';
import { freezeBudget } from '../src/models/budgets/budget-admin.service.js';
import { notifyDelays, notifyProcessingStarted } from '../src/models/notifications/notices.service.js';
import { notifyDelaysJob } from '../src/jobs/notify-delays.job.js';
import { silentLogger } from '../src/log.js';
import { createTestDatabase, type TestDatabase } from './helpers/db.js';
import { seedTenant, submitThroughService, type Tenant } from './helpers/batch-fixtures.js';
import { drive, submitSteps, testConfig, testWorker } from './helpers/batch-driver.js';

/**
 * The events of issue 19 that happen in the grading engine, each told once to the right people only: work queued
 * (with its estimate), grading started, feedback delayed, a batch that failed or expired, a budget frozen. Driven
 * against the emulator as the job runner drives batches; e-mail is written beside each notice for those with an
 * address (test/notifications.email.test.ts sends it).
 */
let db: TestDatabase;
let emulator: RunningEmulator;
let config: Config;
let w: BatchWorker;

beforeAll(async () => {
  db = await createTestDatabase();
  emulator = await startEmulator({ port: 0, timings: { validatingMs: 0, inProgressMs: 0, finalizingMs: 0 } });
  config = testConfig(db, emulator.apiBaseUrl);
  w = testWorker(db.db, config);
});
afterAll(async () => {
  await emulator.close();
  await db.drop();
});
beforeEach(() => {
  emulator.setFaults({});
});

const notices = async (kind: string, platformId: number) =>
  (await db.db.execute<{ user_id: number | null; title: string; body: string; link: string | null; severity: string }>(sql`
    select user_id, title, body, link, severity from notifications where kind = ${kind} and platform_id = ${platformId} order by id`)).rows.map((r) => ({ ...r, user_id: r.user_id == null ? null : Number(r.user_id) }));
const emails = async (kind: string, platformId: number) =>
  (await db.db.execute<{ user_id: number; to_address: string; status: string; lms_url: string | null }>(sql`
    select user_id, to_address, status, lms_url from email_outbox where kind = ${kind} and platform_id = ${platformId} order by id`)).rows.map((r) => ({ ...r, user_id: Number(r.user_id) }));

/** The tenant's administrator has launched as one (so they get the administrators' e-mail) and has an address. */
async function adminWithAddress(t: Tenant): Promise<void> {
  await db.db.execute(sql`update users set email = 'ada.admin@example.edu', administrator_at = now() where id = ${t.adminId}`);
  await db.db.execute(sql`update courses set lms_url = 'https://moodle.example.edu/course/view.php?id=7' where id = ${t.courseId}`);
}

async function batchOf(t: Tenant, items: number[]) {
  const { batches: [batch] } = await db.db.transaction((tx) => createBatches(tx, config.batches, t.admin, { scope: 'selected', ids: items }, {}));
  await requestSubmit(db.db, t.admin, batch!.id);
  return batch!;
}

describe('engine events', () => {
  it('queued: each student is told once, with the estimate and their task, and owes an e-mail to their address', async () => {
    const t = await seedTenant(db.db);
    const items = await submitThroughService(db.db, config, t, 2);
    const told = await notices('queued', t.platformId);
    expect(told).toHaveLength(2);
    expect(told[0]!.title).toBe('Your work on “Persuasive paragraph” is in the grading queue');
    expect(told[0]!.body).toMatch(/^Attempt 1 was received\. Feedback is expected in about \d+ (hours|days); you will be told when it is ready\.$/);
    expect(told[0]!.link).toBe(`/student/tasks/${t.taskId}`);
    const students = (await db.db.execute<{ student_id: number }>(sql`select s.student_id from queue_items q join submissions s on s.id = q.submission_id where q.id = any(${sql.param(items)}::bigint[]) order by q.id`)).rows.map((r) => Number(r.student_id));
    expect(told.map((n) => n.user_id)).toEqual(students);
    const mail = await emails('queued', t.platformId);
    expect(mail.map((m) => [m.user_id, m.status])).toEqual(students.map((s) => [s, 'pending']));
    expect(mail[0]!.to_address).toMatch(/^student1@/);
    const etas = (await db.db.execute<{ n: number }>(sql`select count(*)::int as n from queue_items where id = any(${sql.param(items)}::bigint[]) and eta_told_at > now()`)).rows[0]!.n;
    expect(etas).toBe(2);
  });

  it('grading started: once per item and batch when the provider has it, however often the step or the notice runs', async () => {
    const t = await seedTenant(db.db);
    const items = await submitThroughService(db.db, config, t, 3);
    const batch = await batchOf(t, items);
    await drive(w, submitSteps([batch.id]));
    await notifyProcessingStarted(db.db, batch.id, 1);
    const told = await notices('processing_started', t.platformId);
    expect(told).toHaveLength(3);
    expect(told[0]!.title).toBe('Your work on “Persuasive paragraph” is being graded');
    expect(told[0]!.body).toMatch(/^Attempt 1 was sent for grading\. Results usually take (about \d+ (hours?|days|minutes)|within a few minutes)\.$/);
    // Instructors and administrators hear nothing of it.
    expect(told.every((n) => n.user_id !== t.instructorId && n.user_id !== t.adminId)).toBe(true);
  });

  it('delayed: a student past the estimate they were told hears the new one once, with what they can do; another missed estimate tells them again', async () => {
    const t = await seedTenant(db.db);
    const [item] = await submitThroughService(db.db, config, t, 1);
    await db.db.execute(sql`update queue_items set eta_told_at = now() - interval '1 hour' where id = ${item!}`);
    const first = await db.db.transaction((tx) => notifyDelays(tx, 1));
    const second = await db.db.transaction((tx) => notifyDelays(tx, 1));
    expect(first.notices).toBe(1);
    expect(second.notices).toBe(0);
    const [told] = await notices('delayed', t.platformId);
    expect(told!.title).toBe('Feedback on “Persuasive paragraph” is taking longer than expected');
    expect(told!.body).toMatch(/^Attempt 1 is still waiting to be graded\. The new estimate: in about \d+ (hours|days)\. If the feedback is urgent, ask your instructor: they can have it graded first\.$/);
    expect(told!.severity).toBe('warning');
    // The new estimate is recorded; when it too passes, they hear again (the job, as the worker runs it).
    await db.db.execute(sql`update queue_items set eta_told_at = now() - interval '1 minute' where id = ${item!}`);
    await notifyDelaysJob.handle({ db: db.db, logger: silentLogger, config } as never, {});
    expect(await notices('delayed', t.platformId)).toHaveLength(2);
    // Work already graded is never "delayed".
    await db.db.execute(sql`update queue_items set status = 'completed', eta_told_at = now() - interval '1 hour' where id = ${item!}`);
    expect((await db.db.transaction((tx) => notifyDelays(tx, 1))).notices).toBe(0);
  });

  it('batch failed or expired: the platform administrators are told once, by e-mail too, and nobody of another platform', async () => {
    const t = await seedTenant(db.db);
    const other = await seedTenant(db.db);
    await adminWithAddress(t);
    await db.db.execute(sql`update users set email = 'otto.other@example.edu', administrator_at = now() where id = ${other.adminId}`);
    emulator.setFaults({ failNextBatches: 1 });
    const failed = await batchOf(t, await submitThroughService(db.db, config, t, 2));
    await drive(w, submitSteps([failed.id]));
    await drive(w, submitSteps([failed.id]));
    emulator.setFaults({ expireNextBatches: 1, expireCompletedFraction: 0.5 });
    const expired = await batchOf(t, await submitThroughService(db.db, config, t, 4));
    await drive(w, submitSteps([expired.id]));
    const told = await notices('batch_failed', t.platformId);
    expect(told.map((n) => [n.user_id, n.title, n.link, n.severity])).toEqual([
      [null, `Batch #${failed.id} failed`, `/admin/batches/${failed.id}`, 'error'],
      [null, `Batch #${expired.id} expired`, `/admin/batches/${expired.id}`, 'error'],
    ]);
    expect(told[0]!.body).toMatch(/^The batch of 2 requests ended failed: .+\. Work it did not finish went back to the queue or failed, as the batch page shows\.$/);
    const mail = await emails('batch_failed', t.platformId);
    expect(mail.map((m) => [m.to_address, m.lms_url])).toEqual([
      ['ada.admin@example.edu', 'https://moodle.example.edu/'],
      ['ada.admin@example.edu', 'https://moodle.example.edu/'],
    ]);
    expect(await emails('batch_failed', other.platformId)).toEqual([]);
    expect((await db.db.execute(sql`select 1 from email_outbox where to_address = 'otto.other@example.edu'`)).rows).toEqual([]);
  });

  it('budget frozen: the administrators hear who froze which budget; unfreezing tells nobody', async () => {
    const t = await seedTenant(db.db);
    await adminWithAddress(t);
    await db.db.execute(sql`update users set name = 'Ada Admin' where id = ${t.adminId}`);
    const month = new Date().toISOString().slice(0, 7) + '-01';
    const [budget] = (await db.db.execute<{ id: number }>(sql`insert into budgets (platform_id, course_id, month, limit_micros) values (${t.platformId}, ${t.courseId}, ${month}, 5000000) returning id`)).rows;
    await db.db.transaction((tx) => freezeBudget(tx, t.admin, Number(budget!.id), true));
    await db.db.transaction((tx) => freezeBudget(tx, t.admin, Number(budget!.id), false));
    const told = await notices('budget_frozen', t.platformId);
    expect(told.map((n) => [n.user_id, n.title, n.body])).toEqual([
      [null, `Budget of course "Course ${/Course (\w+)/.exec(told[0]!.title)![1]}" frozen for ${month.slice(0, 7)}`, 'Ada Admin froze it: nothing more is sent for this scope until it is unfrozen.'],
    ]);
    expect((await emails('budget_frozen', t.platformId)).map((m) => m.to_address)).toEqual(['ada.admin@example.edu']);
  });
});
