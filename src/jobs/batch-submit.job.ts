import { sendBatch } from '../models/batches/batch-send.service.js';
import { enqueueSteps } from '../models/batches/batch-kick.js';
import { batchPayload, batchWorker } from './batch-worker.js';
import { defineJob } from './job.js';

/** The submit step of one batch (see batch-send.service.ts). Idempotent: a second run finds nothing left to do. */
export const batchSubmitJob = defineJob({
  name: 'batch-submit',
  payload: batchPayload,
  async handle(deps, { batchId }) {
    await enqueueSteps(deps.jobs, await sendBatch(batchWorker(deps), batchId));
  },
});
