import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { sql } from 'drizzle-orm';
import { silentLogger } from '../src/log.js';
import { metricsRollupJob } from '../src/jobs/metrics-rollup.job.js';
import { createBatches } from '../src/models/batches/batches.service.js';
import { metricsOfDay } from '../src/models/metrics/metrics.repository.js';
import { rollupDay, yesterdayUtc } from '../src/models/metrics/rollup.service.js';
import { startStack, type Stack } from './helpers/stack.js';
import { createAssessment, SUBS } from './helpers/assessments.js';
import { activatePrompt, allowLlm, homeIds, submitMany, userIdOf } from './helpers/queue-fixtures.js';

/**
 * The daily metrics rollup (issue 19, item 4): a day's rows equal direct counts over the same rows, per course and
 * per platform; running it again changes nothing; any past day can be computed (a backfill).
 */
describe('daily metrics rollup', () => {
  let stack: Stack;
  let home: Awaited<ReturnType<typeof homeIds>>;
  const today = new Date().toISOString().slice(0, 10);
  const yesterday = yesterdayUtc();
  const one = async <T extends Record<string, unknown>>(q: ReturnType<typeof sql>) => (await stack.db.db.execute<T>(q)).rows[0]!;

  beforeAll(async () => {
    stack = await startStack({ env: { BATCH_MIN_SIZE: '2' } });
    await stack.browser().launch(stack.devlmsUrl, 'instructor', { task: '1' });
    for (const s of ['student1', 'student2']) await stack.browser().launch(stack.devlmsUrl, s, { task: '1' });
    home = await homeIds(stack);
    const db = stack.db.db;
    await allowLlm(db, home.courseId, home.instructorId);
    await activatePrompt(db, home, home.taskId);
    const student = await userIdOf(stack, '5e02');
    const queued = await submitMany(stack, home, home.taskId, student, 4);
    await db.transaction((tx) => createBatches(tx, stack.config.batches, { platformId: home.platformId, userId: home.instructorId }, { scope: 'selected', ids: queued.slice(0, 2) }, {}));
    await db.execute(sql`update queue_items set status = 'failed', last_error = 'x' where id = ${queued[3]!}`);
    for (const confidence of [0.9, 0.6, 0.75]) await createAssessment(stack, { taskId: home.taskId, studentSub: SUBS.student2, confidence });
    // One of them, and its queue item, happened yesterday.
    const moved = await createAssessment(stack, { taskId: home.taskId, studentSub: SUBS.student1, confidence: 0.5 });
    await db.execute(sql`update assessments set created_at = now() - interval '1 day' where id = ${moved.id}`);
    await db.execute(sql`update queue_items set created_at = now() - interval '1 day', updated_at = now() - interval '1 day' where id = ${moved.queueItemId}`);
    await db.execute(sql`
      insert into cost_ledger (platform_id, course_id, month, kind, amount_micros, idempotency_key)
      values (${home.platformId}, ${home.courseId}, date_trunc('month', now())::date, 'charge', 1_250_000, 'charge:rollup-1'),
             (${home.platformId}, ${home.courseId}, date_trunc('month', now())::date, 'charge', 750_000, 'charge:rollup-2')`);
  }, 90_000);
  afterAll(async () => {
    await stack?.close();
  });

  /** The same day counted straight from the rows, for the home course. */
  const direct = async (day: string) =>
    one<{ queued: number; completed: number; failed: number; cost: number; conf: number | null }>(sql`
      select (select count(*)::int from queue_items where course_id = ${home.courseId} and (created_at at time zone 'UTC')::date = ${day}::date) as queued,
             (select count(*)::int from assessments where course_id = ${home.courseId} and kind = 'llm' and (created_at at time zone 'UTC')::date = ${day}::date) as completed,
             (select count(*)::int from queue_items where course_id = ${home.courseId} and status = 'failed' and (updated_at at time zone 'UTC')::date = ${day}::date) as failed,
             (select coalesce(sum(amount_micros), 0)::int8 from cost_ledger where course_id = ${home.courseId} and kind = 'charge' and (created_at at time zone 'UTC')::date = ${day}::date) as cost,
             (select avg(computed_confidence)::float8 from assessments where course_id = ${home.courseId} and kind = 'llm' and (created_at at time zone 'UTC')::date = ${day}::date) as conf`);

  it('equals a direct count over the same rows, per course and for the platform', async () => {
    const written = await stack.db.db.transaction((tx) => rollupDay(tx, today));
    expect(written).toBeGreaterThanOrEqual(2);
    const rows = await metricsOfDay(stack.db.db, today);
    const course = rows.find((r) => r.courseId === home.courseId)!;
    const platform = rows.find((r) => r.platformId === home.platformId && r.courseId === null)!;
    const d = await direct(today);
    expect(course).toMatchObject({ assessmentsQueued: d.queued, assessmentsCompleted: d.completed, assessmentsFailed: d.failed, costMicros: Number(d.cost) });
    expect(d).toMatchObject({ completed: 3, failed: 1, cost: 2_000_000 });
    expect(course.avgConfidence).toBeCloseTo(d.conf!, 5);
    expect(course.providerCounts).toEqual({ openai: 3 });
    // The platform's row: the same (one course had activity) plus its batches.
    expect(platform).toMatchObject({ assessmentsQueued: d.queued, assessmentsCompleted: 3, costMicros: 2_000_000, batchesCreated: 1, batchesCompleted: 0, batchesFailed: 0 });
    const batches = await one<{ n: number }>(sql`select count(*)::int as n from batches where platform_id = ${home.platformId} and (created_at at time zone 'UTC')::date = ${today}::date`);
    expect(platform.batchesCreated).toBe(batches.n);
  });

  it('is idempotent: a second run replaces the day with the same rows', async () => {
    const strip = (rows: Awaited<ReturnType<typeof metricsOfDay>>) => rows.map(({ id: _id, computedAt: _at, ...r }) => r).sort((a, b) => String(a.courseId).localeCompare(String(b.courseId)));
    const before = strip(await metricsOfDay(stack.db.db, today));
    await stack.db.db.transaction((tx) => rollupDay(tx, today));
    expect(strip(await metricsOfDay(stack.db.db, today))).toEqual(before);
  });

  it('backfills any past day through the job, which refuses a day that does not exist', async () => {
    await metricsRollupJob.handle({ db: stack.db.db, logger: silentLogger, config: stack.config } as never, { day: yesterday });
    const rows = await metricsOfDay(stack.db.db, yesterday);
    const course = rows.find((r) => r.courseId === home.courseId)!;
    const d = await direct(yesterday);
    expect(d).toMatchObject({ queued: 1, completed: 1 });
    expect(course).toMatchObject({ assessmentsQueued: 1, assessmentsCompleted: 1, avgConfidence: expect.closeTo(0.5, 5) });
    await expect(stack.db.db.transaction((tx) => rollupDay(tx, '2026-13-45'))).rejects.toThrow('not a day: 2026-13-45');
    expect(metricsRollupJob.payload.safeParse({ day: 'yesterday' }).success).toBe(false);
    // A day with nothing has no rows.
    await stack.db.db.transaction((tx) => rollupDay(tx, '2001-01-01'));
    expect(await metricsOfDay(stack.db.db, '2001-01-01')).toEqual([]);
  });
});
