import { z } from 'zod';
import { cancelBatchWork } from '../models/batches/batch-poll.service.js';
import { batchWorker, enqueueSteps } from './batch-steps.js';
import { defineJob } from './job.js';

/** The cancel step of one batch (see batch-poll.service.ts). Idempotent: a second run finds nothing left to do. */
export const batchCancelJob = defineJob({
  name: 'batch-cancel',
  payload: z.object({ batchId: z.number().int().positive() }),
  async handle(deps, { batchId }) {
    await enqueueSteps(deps.enqueue, await cancelBatchWork(batchWorker(deps), batchId));
  },
});
