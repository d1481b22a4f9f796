import type { BatchWorker, NextStep } from '../models/batches/batch-worker.js';
import { batchCancelJob } from './batch-cancel.job.js';
import { batchIngestJob } from './batch-ingest.job.js';
import { batchPollJob } from './batch-poll.job.js';
import { batchSubmitJob } from './batch-submit.job.js';
import type { JobDefinition, JobDeps } from './job.js';

export type BatchPayload = { batchId: number };

const JOBS: Record<NextStep['step'], () => JobDefinition<BatchPayload>> = {
  submit: () => batchSubmitJob,
  poll: () => batchPollJob,
  ingest: () => batchIngestJob,
  cancel: () => batchCancelJob,
};

export type Enqueue = NonNullable<JobDeps['enqueue']>;

/** Enqueues the steps a job left to do. Without a runner (a bare handler call), the sweep finds them instead. */
export async function enqueueSteps(enqueue: Enqueue | undefined, steps: NextStep[]): Promise<void> {
  if (!enqueue) return;
  for (const s of steps) await enqueue(JOBS[s.step](), { batchId: s.batchId }, s.at && s.at.getTime() > Date.now() ? s.at : undefined);
}

/** The batch worker of a job runner: its process's database, provider, settings and name. */
export function batchWorker(deps: JobDeps): BatchWorker {
  if (!deps.config || !deps.provider || !deps.workerName) throw new Error('batch jobs need config, provider and workerName in their JobDeps');
  return { db: deps.db, provider: deps.provider, settings: deps.config.batches, encryptionKey: deps.config.encryptionKey, logger: deps.logger, name: deps.workerName };
}
