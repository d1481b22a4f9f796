import { ingestBatch } from '../models/batches/batch-ingest.service.js';
import { enqueueSteps } from '../models/batches/batch-kick.js';
import { cleanUpProviderFiles } from '../models/batches/provider-cleanup.service.js';
import { batchPayload, batchWorker } from './batch-worker.js';
import { defineJob } from './job.js';

/**
 * The ingest step of one batch (see batch-ingest.service.ts), then the deletion of its files at the provider
 * (provider-cleanup.service.ts) once its results are read. The sweep hands out a cleanup that failed before as
 * this same job: the ingest part then finds nothing to do. Idempotent: a second run finds nothing left to do.
 */
export const batchIngestJob = defineJob({
  name: 'batch-ingest',
  payload: batchPayload,
  async handle(deps, { batchId }) {
    const w = batchWorker(deps);
    await enqueueSteps(deps.jobs, await ingestBatch(w, batchId));
    await cleanUpProviderFiles(w, batchId);
  },
});
