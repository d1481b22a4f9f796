import { z } from 'zod';
import { ingestBatch } from '../models/batches/batch-ingest.service.js';
import { batchWorker, enqueueSteps } from './batch-steps.js';
import { defineJob } from './job.js';

/** The ingest step of one batch (see batch-ingest.service.ts). Idempotent: a second run finds nothing left to do. */
export const batchIngestJob = defineJob({
  name: 'batch-ingest',
  payload: z.object({ batchId: z.number().int().positive() }),
  async handle(deps, { batchId }) {
    await enqueueSteps(deps.enqueue, await ingestBatch(batchWorker(deps), batchId));
  },
});
