import type { Db, RootDb } from '../../db/db.js';
import type { JobName, Jobs } from '../../job-queue.js';
import { nextStep, type BatchStep } from './batch-state.js';
import type { NextStep } from './batch-worker.js';
import { findBatchById, type BatchRow } from './batches.repository.js';
import { changeQueue } from '../queue/stats-cache.js';
import type { Admin } from '../queue/queue.service.js';

/** The job that runs each batch step. */
export const STEP_JOBS = { submit: 'batch-submit', poll: 'batch-poll', ingest: 'batch-ingest', cancel: 'batch-cancel' } as const satisfies Record<BatchStep, JobName>;

/** Enqueues the steps a step left to do, at their time or at once. Without a job runner (a bare handler call), the sweep finds them instead. */
export async function enqueueSteps(jobs: Jobs | undefined, steps: NextStep[]): Promise<void> {
  if (!jobs) return;
  for (const s of steps) await jobs.enqueue(STEP_JOBS[s.step], { batchId: s.batchId }, s.at && s.at.getTime() > Date.now() ? s.at : undefined);
}

/**
 * Starts the worker on a batch at once, after an administrator confirmed a send (requestSubmit) or a cancel
 * (requestCancel): call it after the transaction commits, from the web process (its job runner only enqueues; a
 * worker process runs the job, woken by LISTEN/NOTIFY). The step is the state machine's (nextStep), the one the
 * sweep would hand out. Never needed for correctness — the sweep finds the same work within BATCH_SWEEP_MS — so
 * it never fails its caller: a database or job table out of reach only delays the work.
 */
export async function kickBatch(db: Db, jobs: Jobs | undefined, batchId: number): Promise<void> {
  if (!jobs) return;
  try {
    const batch = await findBatchById(db, batchId);
    const step = batch ? nextStep(batch) : null;
    if (step) await enqueueSteps(jobs, [{ step, batchId }]);
  } catch {
    // Left to the sweep (see above).
  }
}

/**
 * An administrator's send or cancel (`request`: requestSubmit or requestCancel), committed with the queue's counts,
 * then the worker woken for it (kickBatch). Returns the batch as the request left it.
 */
export async function confirmBatchStep(db: RootDb, jobs: Jobs | undefined, admin: Admin, batchId: number, request: (tx: Db, admin: Admin, batchId: number) => Promise<BatchRow>): Promise<BatchRow> {
  const batch = await changeQueue(db, admin.platformId, (tx) => request(tx, admin, batchId));
  await kickBatch(db, jobs, batchId);
  return batch;
}
