import { findBatchById } from '../models/batches/batches.repository.js';
import type { Db } from '../db/db.js';
import { enqueueSteps, type Enqueue } from './batch-steps.js';

/**
 * Starts the worker on a batch at once, after an administrator confirmed a send (requestSubmit) or a cancel
 * (requestCancel): call it after the transaction commits, from the web process (its job runner only enqueues;
 * a worker process runs the job, woken by LISTEN/NOTIFY). Harmless when there is nothing to do, and never needed
 * for correctness: the worker's sweep finds the same work within BATCH_SWEEP_MS.
 */
export async function kickBatch(db: Db, enqueue: Enqueue, batchId: number): Promise<void> {
  const batch = await findBatchById(db, batchId);
  if (!batch || batch.ingestedAt) return;
  if (batch.cancelRequestedAt && !batch.cancelSentAt) return enqueueSteps(enqueue, [{ step: 'cancel', batchId }]);
  if (batch.status === 'created' && batch.submitRequestedAt) return enqueueSteps(enqueue, [{ step: 'submit', batchId }]);
  if (batch.status === 'submitted' || batch.status === 'processing') return enqueueSteps(enqueue, [{ step: 'poll', batchId }]);
  if (batch.providerBatchId) return enqueueSteps(enqueue, [{ step: 'ingest', batchId }]);
}
