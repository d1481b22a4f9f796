import { describe, expect, it } from '@jest/globals';
import { sql } from 'drizzle-orm';
import { loadReview } from '../src/models/assessments/review-page.service.js';
import { rejectAssessment } from '../src/models/assessments/review.service.js';
import { sendBatch } from '../src/models/batches/batch-send.service.js';
import { findBatchById } from '../src/models/batches/batches.repository.js';
import { createBatches, requestSubmit } from '../src/models/batches/batches.service.js';
import { submitWork } from '../src/models/submissions/submissions.service.js';
import { parseCustomId } from '../src/providers/index.js';
import { drive, useEmulatedBatches } from './helpers/batch-driver.js';
import { addStudents, seedTenant } from './helpers/batch-fixtures.js';

/**
 * A source file handed in is graded with its language named (issue 18, item 8): the request sent to the provider,
 * the estimate made at submit time, the request shown on the review page and the estimate of a re-queued attempt
 * are all built with it, so the estimate is exactly what is sent.
 */
describe('a source-code submission sent in a batch to the emulator', () => {
  const env = useEmulatedBatches();
  const CODE = 'def mean(xs):\n    """The mean of a non-empty list."""\n    return sum(xs) / len(xs)\n';

  it('names its language in the request as sent, estimated, reviewed and re-queued', async () => {
    const db = env.db.db;
    const t = await seedTenant(db);
    const [author, typist] = await addStudents(db, t, 2);
    const submit = (userId: number, input: Parameters<typeof submitWork>[4]) =>
      db.transaction((tx) => submitWork(tx, env.config, { platformId: t.platformId, courseId: t.courseId, userId }, t.taskId, input));
    const first = await submit(author!, { body: {}, file: { originalName: 'stats.py', mimeType: 'text/x-python', bytes: Buffer.from(CODE) } });
    const { submission } = first;
    const queueItem = first.queueItem!;
    expect(submission).toMatchObject({ originalFilename: 'stats.py', contentFormat: 'text' });
    // The same text typed: its request has no language line, so it is estimated a few tokens shorter.
    const typed = { queueItem: (await submit(typist!, { body: { text: CODE, format: 'text' } })).queueItem! };
    expect(queueItem.estInputTokens).toBeGreaterThan(typed.queueItem.estInputTokens);

    const { batches: [batch] } = await db.transaction((tx) => createBatches(tx, env.config.batches, t.admin, { scope: 'selected', ids: [queueItem.id, typed.queueItem.id] }, {}));
    await requestSubmit(db, t.admin, batch!.id);
    const next = await sendBatch(env.worker, batch!.id);
    // What the emulator received, read before the batch ends and its files are deleted.
    const lines = env.emulator.emulator.context.store.files.get((await findBatchById(db, batch!.id))!.inputFileId!)!.content.toString('utf8').trim().split('\n');
    const userOf = (line: string) => (JSON.parse(line) as { body: { messages: Array<{ role: string; content: string }> } }).body.messages.find((m) => m.role === 'user')!.content;
    const byItem = new Map(lines.map((l) => [parseCustomId((JSON.parse(l) as { custom_id: string }).custom_id)!.queueItemId, userOf(l)] as const));
    expect(byItem.get(queueItem.id)).toContain(`Language: Python\n<student_submission>\n${CODE}\n</student_submission>`);
    expect(byItem.get(typed.queueItem.id)).toContain(`\n\n<student_submission>\n${CODE}\n</student_submission>`);
    expect(byItem.get(typed.queueItem.id)).not.toContain('Language:');
    await drive(env.worker, next);

    // The emulator counted the tokens of what it received: the estimate made at submit time is exactly that.
    const graded = await db.execute<{ id: number; queue_item_id: number; input_tokens: number; est_input_tokens: number; decision_seq: number }>(sql`
      select a.id, a.queue_item_id, a.input_tokens, q.est_input_tokens, a.decision_seq from assessments a join queue_items q on q.id = a.queue_item_id
      where q.id = any(${sql.param([queueItem.id, typed.queueItem.id])}::bigint[]) order by q.id`);
    expect(graded.rows).toHaveLength(2);
    for (const row of graded.rows) expect(row.input_tokens).toBe(row.est_input_tokens);
    const codeAssessment = graded.rows.find((r) => Number(r.queue_item_id) === queueItem.id)!;

    // The review page rebuilds the request as sent, language line included.
    const review = await loadReview(db, env.config, { courseId: t.courseId }, Number(codeAssessment.id));
    expect(review.messages.find((m) => m.role === 'user')!.content).toBe(byItem.get(queueItem.id));

    // Rejected back to the queue: the new item is estimated with the language again, so the same tokens.
    await db.transaction((tx) =>
      rejectAssessment(tx, env.config, { platformId: t.platformId, courseId: t.courseId, userId: t.instructorId }, Number(codeAssessment.id), { decisionSeq: codeAssessment.decision_seq, rejectTo: 'queue', note: 'Grade the docstring too.' }),
    );
    const again = await db.execute<{ est_input_tokens: number }>(sql`select est_input_tokens from queue_items where submission_id = ${submission.id} and id <> ${queueItem.id}`);
    expect(again.rows.map((r) => r.est_input_tokens)).toEqual([codeAssessment.est_input_tokens]);
  });
});
