import { z } from 'zod';
import type { BatchWorker } from '../models/batches/batch-worker.js';
import { providerSet } from '../providers/index.js';
import type { JobDeps } from './job.js';

/** The payload of every batch step's job. */
export const batchPayload = z.object({ batchId: z.number().int().positive() });

/** The batch worker of a job runner: its process's database, providers, settings and name. */
export function batchWorker(deps: JobDeps): BatchWorker {
  if (!deps.config || !deps.provider || !deps.workerName) throw new Error('batch jobs need config, provider and workerName in their JobDeps');
  const providers = deps.providers ?? providerSet([deps.provider]);
  return { db: deps.db, provider: deps.provider, providers, settings: deps.config.batches, encryptionKey: deps.config.encryptionKey, logger: deps.logger, name: deps.workerName };
}
