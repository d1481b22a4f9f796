import { z } from 'zod';
import { pollBatch } from '../models/batches/batch-poll.service.js';
import { batchWorker, enqueueSteps } from './batch-steps.js';
import { defineJob } from './job.js';

/** The poll step of one batch (see batch-poll.service.ts). Idempotent: a second run finds nothing left to do. */
export const batchPollJob = defineJob({
  name: 'batch-poll',
  payload: z.object({ batchId: z.number().int().positive() }),
  async handle(deps, { batchId }) {
    await enqueueSteps(deps.enqueue, await pollBatch(batchWorker(deps), batchId));
  },
});
