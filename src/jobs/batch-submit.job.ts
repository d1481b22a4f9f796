import { z } from 'zod';
import { sendBatch } from '../models/batches/batch-send.service.js';
import { batchWorker, enqueueSteps } from './batch-steps.js';
import { defineJob } from './job.js';

/** The submit step of one batch (see batch-send.service.ts). Idempotent: a second run finds nothing left to do. */
export const batchSubmitJob = defineJob({
  name: 'batch-submit',
  payload: z.object({ batchId: z.number().int().positive() }),
  async handle(deps, { batchId }) {
    await enqueueSteps(deps.enqueue, await sendBatch(batchWorker(deps), batchId));
  },
});
