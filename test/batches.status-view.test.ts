import { describe, expect, it } from '@jest/globals';
import { sql } from 'drizzle-orm';
import { batchStatusView } from '../src/routes/queue.present.js';
import { sendBatch } from '../src/models/batches/batch-send.service.js';
import { createBatches, requestCancel, requestSubmit } from '../src/models/batches/batches.service.js';
import { submitWork } from '../src/models/submissions/submissions.service.js';
import { drive, useEmulatedBatches } from './helpers/batch-driver.js';
import { addStudents, seedTenant } from './helpers/batch-fixtures.js';

/** Issue 18, item 7: a batch's status says what happened to its requests; a cancel is not a send attempt. */
describe('what a batch\'s status says', () => {
  const batch = (status: string, completed: number, failed: number, total = completed + failed) =>
    ({ status, submitRequestedAt: null, requestTotal: total, requestCompleted: completed, requestFailed: failed }) as Parameters<typeof batchStatusView>[0];

  it('calls a batch whose every request failed "Failed", in the failure colour', () => {
    expect(batchStatusView(batch('completed', 0, 1))).toEqual({ label: 'Failed: none of the 1 request succeeded', tone: 'failed' });
    expect(batchStatusView(batch('completed', 0, 12))).toEqual({ label: 'Failed: none of the 12 requests succeeded', tone: 'failed' });
  });

  it('calls a batch with some failures "Completed with failures", not a green "Completed"', () => {
    expect(batchStatusView(batch('completed', 9, 3))).toEqual({ label: 'Completed with failures (3 of 12 failed)', tone: 'partial' });
  });

  it('keeps the plain words for everything else', () => {
    expect(batchStatusView(batch('completed', 12, 0))).toEqual({ label: 'Completed', tone: 'completed' });
    expect(batchStatusView(batch('expired', 3, 0, 10))).toEqual({ label: 'Expired', tone: 'expired' });
    expect(batchStatusView({ ...batch('created', 0, 0, 10), submitRequestedAt: new Date() })).toEqual({ label: 'Confirmed, being sent', tone: 'created' });
  });
});

describe('cancelling a batch before it is sent', () => {
  const env = useEmulatedBatches();

  it('is not a send attempt: the items go back with their count of sends, and a later batch sends them under new ids', async () => {
    const db = env.db.db;
    const t = await seedTenant(db);
    const [student] = await addStudents(db, t, 1);
    const { queueItem: item0 } = await db.transaction((tx) => submitWork(tx, env.config, { platformId: t.platformId, courseId: t.courseId, userId: student! }, t.taskId, { body: { text: 'Uniforms save money.', format: 'text' } }));
    const queueItem = item0!;
    const item = async () => (await db.execute<{ attempts: number; max_attempts: number; status: string }>(sql`select attempts, max_attempts, status from queue_items where id = ${queueItem.id}`)).rows[0]!;
    for (let i = 0; i < 4; i++) {
      const { batches: [batch] } = await db.transaction((tx) => createBatches(tx, env.config.batches, t.admin, { scope: 'selected', ids: [queueItem.id] }, {}));
      expect(await item()).toMatchObject({ attempts: 1, status: 'selected' });
      await db.transaction((tx) => requestCancel(tx, t.admin, batch!.id));
      expect(await item()).toMatchObject({ attempts: 0, max_attempts: 3, status: 'queued' });
    }
    const { batches: [batch] } = await db.transaction((tx) => createBatches(tx, env.config.batches, t.admin, { scope: 'selected', ids: [queueItem.id] }, {}));
    const ids = (await db.execute<{ custom_id: string }>(sql`select custom_id from batch_requests where queue_item_id = ${queueItem.id} order by id`)).rows.map((r) => r.custom_id);
    expect(ids).toEqual([1, 2, 3, 4, 5].map((n) => `qi-${queueItem.id}-a${n}`));
    await requestSubmit(db, t.admin, batch!.id);
    await drive(env.worker, await sendBatch(env.worker, batch!.id));
    expect(await item()).toMatchObject({ attempts: 1, status: 'completed' });
  });
});
