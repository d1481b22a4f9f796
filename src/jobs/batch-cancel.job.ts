import { cancelBatchWork } from '../models/batches/batch-poll.service.js';
import { enqueueSteps } from '../models/batches/batch-kick.js';
import { batchPayload, batchWorker } from './batch-worker.js';
import { defineJob } from './job.js';

/** The cancel step of one batch (see batch-poll.service.ts). Idempotent: a second run finds nothing left to do. */
export const batchCancelJob = defineJob({
  name: 'batch-cancel',
  payload: batchPayload,
  async handle(deps, { batchId }) {
    await enqueueSteps(deps.jobs, await cancelBatchWork(batchWorker(deps), batchId));
  },
});
