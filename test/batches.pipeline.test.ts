import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { sql } from 'drizzle-orm';
import { kickBatch } from '../src/models/batches/batch-kick.js';
import { listCourseAssessments, findCourseAssessment } from '../src/models/assessments/assessments.repository.js';
import { studentSubmissionStatuses } from '../src/models/submissions/status.service.js';
import { findBatchById } from '../src/models/batches/batches.repository.js';
import { createBatches, requestSubmit } from '../src/models/batches/batches.service.js';
import { submitThroughService, seedTenant } from './helpers/batch-fixtures.js';
import { FAST_BATCH_ENV } from './helpers/batch-driver.js';
import { until } from './helpers/until.js';
import { startStack, type Stack } from './helpers/stack.js';

/**
 * The whole pipeline in a running tool (web + worker in one process, Agenda on the test database) against the
 * emulator: students submit through the service, an administrator batches and confirms, the kick wakes the
 * worker, and the jobs send, poll and ingest on their own.
 */

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ role: 'all', emulator: true, env: FAST_BATCH_ENV });
}, 60_000);
afterAll(async () => {
  await stack?.close();
});

describe('submission → queue → batch → assessment', () => {
  it('three students are graded through the job runner; assessments carry usage and cost; students see them per the release policy', async () => {
    const db = stack.db.db;
    const t = await seedTenant(db);
    const items = await submitThroughService(db, stack.config, t, 3);
    const queued = await db.execute<{ status: string; est_input_tokens: number; est_cost_micros: number; prompt_version_id: number }>(sql`select status, est_input_tokens, est_cost_micros, prompt_version_id from queue_items where id = any(${sql.param(items)}::bigint[])`);
    expect(queued.rows.every((r) => r.status === 'queued' && r.est_input_tokens > 0 && r.est_cost_micros > 0 && Number(r.prompt_version_id) === t.version.id)).toBe(true);

    const { batches: [batch] } = await db.transaction((tx) => createBatches(tx, stack.config.batches, t.admin, { scope: 'selected', ids: items }, { notes: 'first run' }));
    await requestSubmit(db, t.admin, batch!.id);
    await kickBatch(db, stack.tool.jobs, batch!.id);

    const done = await until('the batch to be ingested', async () => {
      const b = await findBatchById(db, batch!.id);
      return b?.ingestedAt ? b : undefined;
    }, 20_000, 25);
    expect(done.status).toBe('completed');
    expect(done.ingestedLines).toBe(3);
    const list = await listCourseAssessments(db, t.courseId);
    // Results that wait for the instructor tell nobody yet.
    expect((await db.execute(sql`select 1 from notifications where kind = 'feedback_ready' and course_id = ${t.courseId}`)).rows).toEqual([]);
    expect(list).toHaveLength(3);
    // What an assessment copies from its queue item is the queue item's (the insert takes it from there).
    const copies = await db.execute<{ n: number }>(sql`
      select count(*)::int as n from assessments a join queue_items q on q.id = a.queue_item_id
      where a.id = any(${sql.param(list.map((a) => a.id))}::bigint[]) and a.platform_id = q.platform_id and a.course_id = q.course_id
        and a.task_id = q.task_id and a.submission_id = q.submission_id and a.prompt_version_id = q.prompt_version_id`);
    expect(copies.rows[0]!.n).toBe(3);
    for (const a of list) {
      expect(a.result).not.toBeNull();
      expect(a.score).toBeGreaterThanOrEqual(0);
      expect(a.score).toBeLessThanOrEqual(10);
      expect(a.inputTokens).toBeGreaterThan(0);
      expect(a.outputTokens).toBeGreaterThan(0);
      expect(a.actualCostMicros).toBeGreaterThan(0);
      expect(a.reviewStatus).toBe('pending_review');
      expect(a.releasedAt).toBeNull();
    }
    expect(done.actualCostMicros).toBe(list.reduce((s, a) => s + a.actualCostMicros, 0));
    expect(done.inputTokens).toBe(list.reduce((s, a) => s + a.inputTokens, 0));
    const states = await db.execute<{ status: string }>(sql`select status from queue_items where id = any(${sql.param(items)}::bigint[])`);
    expect(states.rows.map((r) => r.status)).toEqual(['completed', 'completed', 'completed']);
    // The ledger: each result charged its actual cost in one row that settles its whole reservation.
    const ledger = await db.execute<{ kind: string; n: number; total: number; settled: number }>(
      sql`select kind, count(*)::int as n, sum(amount_micros)::int8 as total, sum(settled_micros)::int8 as settled from cost_ledger where batch_id = ${batch!.id} group by kind order by kind`,
    );
    expect(ledger.rows.map((r) => [r.kind, r.n])).toEqual([['charge', 3], ['reservation', 3]]);
    expect(Number(ledger.rows[0]!.total)).toBe(done.actualCostMicros);
    expect(Number(ledger.rows[0]!.settled)).toBe(Number(ledger.rows[1]!.total));
    expect(Number(ledger.rows[1]!.settled)).toBe(0);

    // After approval (the default): instructors see all three at once, the student none yet.
    const student = (await db.execute<{ student_id: number }>(sql`select s.student_id from submissions s join queue_items q on q.submission_id = s.id where q.id = ${items[0]!}`)).rows[0]!;
    const statuses = await studentSubmissionStatuses(db, { taskId: t.taskId }, Number(student.student_id), 1);
    expect(statuses.map((st) => st.feedbackReleased)).toEqual([false]);
    expect(await findCourseAssessment(db, t.courseId + 999_999, list[0]!.id)).toBeUndefined();
  }, 40_000);

  it('a task released immediately shows an unflagged result to its student at once', async () => {
    const db = stack.db.db;
    const t = await seedTenant(db, { releasePolicy: 'immediately' });
    const items = await submitThroughService(db, stack.config, t, 1);
    const { batches: [batch] } = await db.transaction((tx) => createBatches(tx, stack.config.batches, t.admin, { scope: 'selected', ids: items }, {}));
    await requestSubmit(db, t.admin, batch!.id);
    // No kick this time: the worker's sweep finds the confirmed batch on its own.
    await until('the batch to be ingested', async () => ((await findBatchById(db, batch!.id))?.ingestedAt ? true : undefined), 20_000, 25);
    const student = (await db.execute<{ student_id: number }>(sql`select s.student_id from submissions s join queue_items q on q.submission_id = s.id where q.id = ${items[0]!}`)).rows[0]!;
    const [status] = await studentSubmissionStatuses(db, { taskId: t.taskId }, Number(student.student_id), 1);
    const [a] = await listCourseAssessments(db, t.courseId);
    expect(status!.feedbackReleased).toBe(!a!.needsReview);
    // Released at ingestion: the student is told once, by the ingestion itself (issue 19).
    const told = await db.execute<{ user_id: number; link: string }>(sql`select user_id, link from notifications where kind = 'feedback_ready' and course_id = ${t.courseId}`);
    expect(told.rows).toEqual(status!.feedbackReleased ? [{ user_id: Number(student.student_id), link: `/student/submissions/${status!.submissionId}/feedback` }] : []);
  }, 40_000);
});
