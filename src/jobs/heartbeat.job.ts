import { z } from 'zod';
import { defineJob } from './job.js';

/**
 * Runs every 30 seconds on a worker. Its last finish time in agenda_jobs is how /healthz, from any process,
 * knows that some worker is alive and processing jobs (stale after three missed beats: health.routes.ts).
 */
export const heartbeatJob = defineJob({
  name: 'heartbeat',
  payload: z.object({}).passthrough(),
  every: '30 seconds',
  async handle() {
    // Nothing to do: finishing is the signal.
  },
});
