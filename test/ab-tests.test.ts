import { describe, expect, it } from '@jest/globals';
import { sql } from 'drizzle-orm';
import { HttpError } from '../src/errors.js';
import { createBatches, requestSubmit } from '../src/models/batches/batches.service.js';
import { armOf } from '../src/models/prompts/ab-split.js';
import { planPairedGrading, runPairedGrading } from '../src/models/prompts/ab-paired.service.js';
import { setActiveVersion } from '../src/models/prompts/ab-tests.repository.js';
import { abTestResults, endAbTest, startAbTest } from '../src/models/prompts/ab-tests.service.js';
import { appendVersion, findActiveVersion } from '../src/models/prompts/prompts.repository.js';
import { submitWork } from '../src/models/submissions/submissions.service.js';
import { queueSubmissionAgain } from '../src/models/submissions/regrade.service.js';
import { findTaskInCourse, type TaskRow } from '../src/models/tasks/tasks.repository.js';
import { createProviders } from '../src/providers/index.js';
import { addStudents, ESSAYS, seedTenant, type Tenant } from './helpers/batch-fixtures.js';
import { drive, submitSteps, useEmulatedBatches } from './helpers/batch-driver.js';

/**
 * Issue 22, item 1: a prompt A/B test over the emulator. New submissions are split by submission between the two
 * versions, graded by a batch, decided by the instructor; the comparison counts each arm's decisions; a paired run
 * grades every item with the other version too, by real-time calls through the spending gate (refused while the
 * budget is frozen), never as the student's grade; ending the test makes the winner the active version (audited).
 */

const env = useEmulatedBatches();
const db = () => env.db.db;
const actorOf = (t: Tenant) => ({ platformId: t.platformId, courseId: t.courseId, userId: t.instructorId });
const taskOf = async (t: Tenant): Promise<TaskRow> => (await findTaskInCourse(db(), t.courseId, t.taskId))!;

/** A tenant whose task has version 1 active (A) and a stricter version 2 (B) saved beside it. */
async function tenantWithTwoVersions(): Promise<{ t: Tenant; b: Awaited<ReturnType<typeof appendVersion>> }> {
  const t = await seedTenant(db(), { maxAttempts: 3 });
  const { id: _id, promptId: _p, version: _v, createdAt: _c, authorId: _a, ...fields } = t.version;
  const b = await appendVersion(db(), t.taskId, t.instructorId, { ...fields, systemInstructions: 'You grade short paragraphs strictly.', note: 'stricter' });
  await setActiveVersion(db(), t.taskId, t.version.id);
  return { t, b };
}

async function refusal(p: Promise<unknown>): Promise<HttpError> {
  const err = await p.then(() => null, (e: unknown) => e);
  expect(err).toBeInstanceOf(HttpError);
  return err as HttpError;
}

describe('prompt A/B tests', () => {
  it('splits submissions, compares the arms, pairs them through the spending gate and promotes the winner', async () => {
    const { t, b } = await tenantWithTwoVersions();
    const task = await taskOf(t);
    const test = await db().transaction((tx) => startAbTest(tx, actorOf(t), task, { versionB: b.version, shareB: 50 }));
    const students = await addStudents(db(), t, 16);
    const submitted: Awaited<ReturnType<typeof submitWork>>[] = [];
    for (const [i, userId] of students.entries()) {
      submitted.push(await db().transaction((tx) => submitWork(tx, env.config, { platformId: t.platformId, courseId: t.courseId, userId }, t.taskId, { body: { text: ESSAYS[i % ESSAYS.length], format: 'text' } })));
    }
    // Each submission is graded by the version its hash chose, and the item says which test chose it.
    for (const s of submitted) {
      expect(s.queueItem!.promptVersionId).toBe(armOf(test.id, s.submission.id, 50) === 'B' ? b.id : t.version.id);
      expect(s.queueItem!.abTestId).toBe(test.id);
    }
    const inB = submitted.filter((s) => s.queueItem!.promptVersionId === b.id).length;
    expect(inB).toBeGreaterThan(0);
    expect(inB).toBeLessThan(16);

    const { batches } = await db().transaction((tx) => createBatches(tx, env.config.batches, t.admin, { scope: 'selected', ids: submitted.map((s) => s.queueItem!.id) }, {}));
    for (const batch of batches) await requestSubmit(db(), t.admin, batch.id);
    await drive(env.worker, submitSteps(batches.map((x) => x.id)));
    // The instructor approves every other result and overrides the rest 1 point down.
    await db().execute(sql`
      update assessments set review_status = case when id % 2 = 0 then 'approved' else 'overridden' end, override_score = case when id % 2 = 0 then null else greatest(score - 1, 0) end,
        override_reason = case when id % 2 = 0 then null else 'enc:test' end, override_category = case when id % 2 = 0 then null else 'too_lenient' end, reviewed_at = now(), decision_seq = 1
      where task_id = ${t.taskId}`);
    const decided = (await db().execute<{ v: number; approved: number; n: number }>(sql`
      select prompt_version_id as v, count(*) filter (where review_status = 'approved')::int as approved, count(*)::int as n from assessments where task_id = ${t.taskId} group by 1`)).rows;
    const results = (await abTestResults(db(), t.taskId))!;
    for (const [arm, version] of [['A', t.version.id], ['B', b.id]] as const) {
      const row = decided.find((d) => Number(d.v) === version)!;
      expect(results.comparison[arm]).toMatchObject({ n: row.n, approvals: row.approved });
    }
    expect(results.assigned).toEqual({ A: 16 - inB, B: inB });
    expect(results.paired).toBeNull();

    // The cost first: every graded item once, at real-time prices.
    const plan = (await planPairedGrading(db(), env.config.encryptionKey, task))!;
    expect(plan.requests).toHaveLength(16);
    expect(plan.worstMicros).toBeGreaterThan(0);
    const providers = createProviders(env.config, { retry: { maxAttempts: 1 } });
    const pair = () => runPairedGrading(db(), env.config.encryptionKey, () => providers.get('openai'), { ...task, platformId: t.platformId });
    const month = new Date().toISOString().slice(0, 7) + '-01';
    await db().execute(sql`insert into budgets (platform_id, course_id, month, limit_micros, frozen) values (${t.platformId}, ${t.courseId}, ${month}, 100000000, true)`);
    expect((await refusal(pair())).status).toBe(409);
    const paired = async () => Number((await db().execute<{ n: number }>(sql`select count(*)::int as n from ab_paired_grades where ab_test_id = ${test.id}`)).rows[0]!.n);
    expect(await paired()).toBe(0);
    await db().execute(sql`update budgets set frozen = false where course_id = ${t.courseId}`);
    // One call the provider refuses leaves its item for the next run; the others are graded and charged.
    env.emulator.setFaults({ chatFailures: { count: 1, status: 500 } });
    const done = await pair();
    env.emulator.setFaults({});
    expect(done.graded).toBe(15);
    expect(await paired()).toBe(15);
    const rest = await pair();
    expect(rest.graded).toBe(1);
    expect(await paired()).toBe(16);
    // Each run that sent something is on the record with what it graded and cost; the refused one is not.
    const runs = (await db().execute<{ details: { graded: number; costMicros: number } }>(sql`select details from audit_log where action = 'ab_test.paired_run' and entity_id = ${test.id} order by id`)).rows;
    expect(runs.map((r) => [r.details.graded, r.details.costMicros])).toEqual([[15, done.costMicros], [1, rest.costMicros]]);
    const charged = (await db().execute<{ n: number; micros: number }>(sql`
      select count(*)::int as n, coalesce(sum(amount_micros), 0)::int8 as micros from cost_ledger where course_id = ${t.courseId} and mode = 'realtime' and kind = 'charge'`)).rows[0]!;
    expect(Number(charged.micros)).toBe(done.costMicros + rest.costMicros);
    expect(Number(charged.micros)).toBeLessThanOrEqual(plan.worstMicros);
    // Students see one result each: the paired grade is no assessment.
    const perSubmission = (await db().execute<{ n: number }>(sql`select count(*)::int as n from assessments where task_id = ${t.taskId} group by submission_id`)).rows;
    expect(perSubmission.every((r) => Number(r.n) === 1)).toBe(true);
    expect((await abTestResults(db(), t.taskId))!.paired!.n).toBe(16);
    expect((await planPairedGrading(db(), env.config.encryptionKey, task))!.requests).toHaveLength(0);

    const ended = await db().transaction((tx) => endAbTest(tx, actorOf(t), task, 'B'));
    expect(ended.winner.id).toBe(b.id);
    expect((await findActiveVersion(db(), t.taskId))!.id).toBe(b.id);
    const audit = (await db().execute<{ details: Record<string, unknown> }>(sql`select details from audit_log where action = 'ab_test.ended' and entity_id = ${String(test.id)}`)).rows;
    expect(audit[0]!.details).toMatchObject({ winner: 'B', promotedVersionId: b.id });
    expect((await refusal(db().transaction((tx) => endAbTest(tx, actorOf(t), task, 'A')))).status).toBe(409);
    expect((await refusal(pair())).status).toBe(409);
    // After the test, new work goes to the promoted version, outside any test.
    const [late] = await addStudents(db(), t, 1);
    const after = await db().transaction((tx) => submitWork(tx, env.config, { platformId: t.platformId, courseId: t.courseId, userId: late! }, t.taskId, { body: { text: ESSAYS[0], format: 'text' } }));
    expect(after.queueItem).toMatchObject({ promptVersionId: b.id, abTestId: null });
  });

  it('refuses a test it cannot run, with the reason', async () => {
    const { t, b } = await tenantWithTwoVersions();
    const task = await taskOf(t);
    const start = (versionB: number) => db().transaction((tx) => startAbTest(tx, actorOf(t), task, { versionB, shareB: 20 }));
    expect((await refusal(start(t.version.version))).fields).toHaveProperty('versionB');
    expect((await refusal(start(99))).status).toBe(404);
    const { id: _id, promptId: _p, version: _v, createdAt: _c, authorId: _a, ...fields } = t.version;
    const other = await appendVersion(db(), t.taskId, t.instructorId, { ...fields, maxScore: 20, note: 'out of 20' });
    await setActiveVersion(db(), t.taskId, t.version.id);
    expect((await refusal(start(other.version))).fields!.versionB).toMatch(/same maximum/);
    await start(b.version);
    expect((await refusal(start(b.version))).status).toBe(409);
    await db().execute(sql`update prompts set status = 'archived' where task_id = ${t.taskId}`);
    expect((await refusal(start(b.version))).message).toMatch(/no active grading prompt/);
  });

  it('keeps a retried submission in its arm', async () => {
    const { t, b } = await tenantWithTwoVersions();
    const task = await taskOf(t);
    const test = await db().transaction((tx) => startAbTest(tx, actorOf(t), task, { versionB: b.version, shareB: 99 }));
    // 99 % to B: a retry that ignored the arm would land on the active version A.
    const students = await addStudents(db(), t, 4);
    for (const userId of students) {
      const s = await db().transaction((tx) => submitWork(tx, env.config, { platformId: t.platformId, courseId: t.courseId, userId }, t.taskId, { body: { text: ESSAYS[1], format: 'text' } }));
      await db().execute(sql`update queue_items set status = 'failed', last_error = 'test' where id = ${s.queueItem!.id}`);
      const again = await db().transaction((tx) => queueSubmissionAgain(tx, env.config, { platformId: t.platformId, courseId: t.courseId }, s.submission.id, 'retry'));
      const row = (await db().execute<{ prompt_version_id: number; ab_test_id: number; request_hash: string }>(sql`select prompt_version_id, ab_test_id, request_hash from queue_items where id = ${again}`)).rows[0]!;
      expect(Number(row.prompt_version_id)).toBe(s.queueItem!.promptVersionId);
      expect(Number(row.ab_test_id)).toBe(test.id);
      expect(row.request_hash).toBe(s.queueItem!.requestHash);
    }
  });
});
