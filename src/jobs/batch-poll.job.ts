import { pollBatch } from '../models/batches/batch-poll.service.js';
import { enqueueSteps } from '../models/batches/batch-kick.js';
import { batchPayload, batchWorker } from './batch-worker.js';
import { defineJob } from './job.js';

/** The poll step of one batch (see batch-poll.service.ts). Idempotent: a second run finds nothing left to do. */
export const batchPollJob = defineJob({
  name: 'batch-poll',
  payload: batchPayload,
  async handle(deps, { batchId }) {
    await enqueueSteps(deps.jobs, await pollBatch(batchWorker(deps), batchId));
  },
});
