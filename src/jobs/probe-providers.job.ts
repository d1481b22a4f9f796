import { z } from 'zod';
import { probeMarkedProviders, PROBE_INTERVAL_MS } from '../models/failover/provider-health.service.js';
import { defineJob } from './job.js';

/**
 * Failover (issue 20, item 6): every minute, each provider a platform marked unhealthy after a failover is probed
 * (a list of one batch); the first answer clears the mark, so new batches may go to it again
 * (models/failover/provider-health.service.ts). Idempotent: a mark already cleared is not probed again.
 */
export const probeProvidersJob = defineJob({
  name: 'probe-providers',
  payload: z.object({}).passthrough(),
  every: () => PROBE_INTERVAL_MS,
  concurrency: 1,
  async handle({ db, logger, providers }) {
    if (!providers) return;
    await probeMarkedProviders(db, providers, logger);
  },
});
