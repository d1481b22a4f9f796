import { describe, expect, it } from '@jest/globals';
import { sql } from 'drizzle-orm';
import { createBatches, requestSubmit } from '../src/models/batches/batches.service.js';
import { studentFeedback } from '../src/models/assessments/feedback.service.js';
import { loadReview } from '../src/models/assessments/review-page.service.js';
import { presentReview } from '../src/routes/review.present.js';
import { promptBodySchema } from '../src/models/prompts/prompt-draft.js';
import { builtinTemplates } from '../src/models/prompts/library.js';
import { submitWork } from '../src/models/submissions/submissions.service.js';
import { requestHashOf } from '../src/grading/request-hash.js';
import { gradingRequestFor } from '../src/grading/request.js';
import { createProviders } from '../src/providers/index.js';
import { addStudents, ESSAYS, seedTenant, type Tenant } from './helpers/batch-fixtures.js';
import { drive, submitSteps, useEmulatedBatches } from './helpers/batch-driver.js';

/**
 * Issue 22, item 5: consistent scores. Grading requests go out at temperature 0 unless the prompt says otherwise; each
 * request carries a hash of what it sends; a student's resubmission identical to an earlier graded attempt reuses
 * that grade — completed at once, shown as reused, no batch, no ledger charge.
 */

const env = useEmulatedBatches();
const db = () => env.db.db;

const submit = (t: Tenant, userId: number, text: string) =>
  db().transaction((tx) => submitWork(tx, env.config, { platformId: t.platformId, courseId: t.courseId, userId }, t.taskId, { body: { text, format: 'text' } }));

async function gradeQueued(t: Tenant, ids: number[]): Promise<void> {
  const { batches } = await db().transaction((tx) => createBatches(tx, env.config.batches, t.admin, { scope: 'selected', ids }, {}));
  for (const b of batches) await requestSubmit(db(), t.admin, b.id);
  await drive(env.worker, submitSteps(batches.map((b) => b.id)));
}

const ledgerOf = async (t: Tenant) =>
  (await db().execute<{ n: number; micros: number }>(sql`select count(*)::int as n, coalesce(sum(amount_micros), 0)::int8 as micros from cost_ledger where course_id = ${t.courseId}`)).rows.map((r) => ({ n: Number(r.n), micros: Number(r.micros) }))[0]!;

type AssessmentFacts = { id: number; score: number; result: unknown; actual_cost_micros: number; input_tokens: number; reused_from_id: number | null; released_at: Date | null };
const assessmentOf = async (submissionId: number) =>
  (await db().execute<AssessmentFacts>(sql`select id, score, result, actual_cost_micros::int8 as actual_cost_micros, input_tokens, reused_from_id, released_at from assessments where submission_id = ${submissionId}`)).rows[0];

describe('consistent scores', () => {
  it('sends temperature 0 by default, through both providers', () => {
    expect(promptBodySchema.parse({ template: '{student_submission}', model: 'gpt-4o-mini', rubric: [{ name: 'A', maxPoints: 1 }] }).temperature).toBe(0);
    expect(builtinTemplates().every((t) => Number(t.content.temperature) === 0)).toBe(true);
    const providers = createProviders(env.config);
    const ctx = (model: string) => ({ version: { template: '{student_submission}', systemInstructions: '', graderInstructions: '', rubric: [{ id: 'a', name: 'A', description: '', maxPoints: 1 }], maxScore: 1, model, temperature: 0, maxOutputTokens: 100, outputSchema: {} }, task: { title: 'T', description: '' } });
    const openai = JSON.parse(providers.get('openai').buildRequestLine(gradingRequestFor(ctx('gpt-4o-mini'), 'x', 'qi-1-a1'))) as { body: { temperature: number } };
    expect(openai.body.temperature).toBe(0);
    const anthropic = JSON.parse(providers.get('anthropic').buildRequestLine(gradingRequestFor(ctx('claude-haiku-4-5'), 'x', 'qi-1-a1'))) as { params: { temperature: number } };
    expect(anthropic.params.temperature).toBe(0);
  });

  it('hashes what a request sends: the version, the model, the language and the text', () => {
    const base = { promptVersionId: 1, model: 'gpt-4o-mini', language: null, text: 'An answer.' };
    expect(requestHashOf(base)).toBe(requestHashOf({ ...base }));
    for (const change of [{ promptVersionId: 2 }, { model: 'gpt-4o' }, { language: 'python' }, { text: 'An answer!' }]) expect(requestHashOf({ ...base, ...change })).not.toBe(requestHashOf(base));
  });

  it('reuses the grade of an identical earlier attempt across batches: not queued, not charged, shown as reused', async () => {
    const t = await seedTenant(db(), { releasePolicy: 'immediately', maxAttempts: 4 });
    const [me, other] = await addStudents(db(), t, 2);
    const first = await submit(t, me!, ESSAYS[0]!);
    expect(first.queueItem!.requestHash).toMatch(/^[0-9a-f]{64}$/);
    await gradeQueued(t, [first.queueItem!.id]);
    const graded = (await assessmentOf(first.submission.id))!;
    expect(Number(graded.actual_cost_micros)).toBeGreaterThan(0);
    const paid = await ledgerOf(t);

    const again = await submit(t, me!, ESSAYS[0]!);
    expect(again.reusedFrom).toBe(graded.id);
    expect(again.queueItem).toMatchObject({ status: 'completed', requestHash: first.queueItem!.requestHash });
    const reused = (await assessmentOf(again.submission.id))!;
    expect(reused).toMatchObject({ reused_from_id: graded.id, input_tokens: 0 });
    expect(Number(reused.actual_cost_micros)).toBe(0);
    expect(Number(reused.score)).toBe(Number(graded.score));
    expect(reused.result).toEqual(graded.result);
    expect(await ledgerOf(t)).toEqual(paid);
    const queued = (await db().execute<{ n: number }>(sql`select count(*)::int as n from queue_items where task_id = ${t.taskId} and status = 'queued'`)).rows[0]!;
    expect(Number(queued.n)).toBe(0);
    // The student reads it as reused from attempt 1 (released at once, as the task releases unflagged results).
    expect(graded.released_at).not.toBeNull();
    expect(reused.released_at).not.toBeNull();
    const seen = await studentFeedback(db(), { courseId: t.courseId, studentId: me! }, again.submission.id, env.config);
    expect(seen.reusedFromAttempt).toBe(1);
    // The instructor's review page says so beside the cost; the first attempt's does not.
    expect(presentReview(await loadReview(db(), env.config, { courseId: t.courseId }, reused.id)).reusedFrom).toBe(graded.id);
    expect(presentReview(await loadReview(db(), env.config, { courseId: t.courseId }, graded.id)).reusedFrom).toBeNull();

    // Not reused: another student's identical text, the same student's different text, and after a rejection.
    const theirs = await submit(t, other!, ESSAYS[0]!);
    const changed = await submit(t, me!, ESSAYS[1]!);
    expect([theirs.reusedFrom, changed.reusedFrom]).toEqual([null, null]);
    expect([theirs.queueItem!.status, changed.queueItem!.status]).toEqual(['queued', 'queued']);
    await db().execute(sql`update assessments set review_status = 'rejected', rejected_to = 'manual', decision_seq = 1 where submission_id in (${first.submission.id}, ${again.submission.id})`);
    const afterRejection = await submit(t, me!, ESSAYS[0]!);
    expect(afterRejection.reusedFrom).toBeNull();
    // The other student's identical work is graded (and paid for) in its own batch.
    await gradeQueued(t, [theirs.queueItem!.id, changed.queueItem!.id, afterRejection.queueItem!.id]);
    expect((await ledgerOf(t)).micros).toBeGreaterThan(paid.micros);
  });
});
