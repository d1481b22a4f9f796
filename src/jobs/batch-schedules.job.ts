import { z } from 'zod';
import { kickBatch } from '../models/batches/batch-kick.js';
import { runNextDueSchedule } from '../models/schedules/schedules.service.js';
import { defineJob } from './job.js';

/** Most schedules one tick runs; the rest wait for the next tick (a minute), so a tick stays short. */
const MAX_PER_TICK = 100;

/**
 * Batch schedules and automatic mode (issue 20): every minute (BATCH_SCHEDULE_TICK_MS), each schedule whose slot has come runs, one per
 * transaction (schedules.service.ts `runNextDueSchedule`: locked, its run row unique per slot, so two workers or a
 * repeated tick never make two batches of the same items). Batches a schedule sends itself are handed to a worker
 * at once, as an administrator's confirmation is (kickBatch; the batch sweep would find them too).
 */
export const batchSchedulesJob = defineJob({
  name: 'run-batch-schedules',
  payload: z.object({}).passthrough(),
  every: (deps) => deps.config?.batches.scheduleTickMs ?? 60_000,
  concurrency: 1,
  async handle({ db, logger, jobs, config }) {
    if (!config) return;
    for (let n = 0; n < MAX_PER_TICK; n++) {
      const run = await db.transaction((tx) => runNextDueSchedule(tx, config.batches, new Date()));
      if (!run) break;
      if (run.outcome) logger.info('batch schedule ran', { ...run });
      if (run.outcome === 'sent') for (const id of run.batchIds) await kickBatch(db, jobs, id);
    }
  },
});
