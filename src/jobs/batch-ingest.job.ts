import { ingestBatch } from '../models/batches/batch-ingest.service.js';
import { enqueueSteps } from '../models/batches/batch-kick.js';
import { batchPayload, batchWorker } from './batch-worker.js';
import { defineJob } from './job.js';

/** The ingest step of one batch (see batch-ingest.service.ts). Idempotent: a second run finds nothing left to do. */
export const batchIngestJob = defineJob({
  name: 'batch-ingest',
  payload: batchPayload,
  async handle(deps, { batchId }) {
    await enqueueSteps(deps.jobs, await ingestBatch(batchWorker(deps), batchId));
  },
});
