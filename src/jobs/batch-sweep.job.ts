import { z } from 'zod';
import { dueWork } from '../models/batches/batch-work.repository.js';
import { enqueueSteps } from '../models/batches/batch-kick.js';
import { dueFileCleanups } from '../models/batches/batch-steps.repository.js';
import { PROVIDER_CLEANUP_MAX_ATTEMPTS } from '../models/batches/provider-cleanup.service.js';
import { batchWorker } from './batch-worker.js';
import { defineJob } from './job.js';
import { releaseStaleRealtime } from '../models/budgets/ledger.repository.js';

/** A real-time call answers within minutes (its timeout and retries); a reservation this old was left behind. */
const STALE_REALTIME_MINUTES = 30;

/**
 * Every BATCH_SWEEP_MS on a worker: hands out batch work nobody is doing — a send or cancel an administrator
 * asked for, a poll that is due, a finished batch not ingested, work whose lease ran out because its worker died,
 * and the deletion of a read batch's files at the provider that failed (or never ran) once its pause is over.
 * The jobs chain themselves in the normal case; the sweep is what makes a lost job or a killed worker harmless. It
 * also releases real-time reservations a stopped process left unsettled.
 */
export const batchSweepJob = defineJob({
  name: 'batch-sweep',
  payload: z.object({}).passthrough(),
  every: (deps) => deps.config?.batches.sweepMs,
  concurrency: 1,
  // Agenda locks a recurring job while it waits for its next run: a killed worker's lock must not stop the sweep
  // (the one job that recovers from killed workers) for Agenda's default ten minutes. A sweep takes milliseconds.
  lockLifetimeMs: 5000,
  async handle(deps) {
    const w = batchWorker(deps);
    const due = await dueWork(w.db, w.settings.leaseMs);
    if (due.length) w.logger.debug('batch sweep found work', { count: due.length });
    await enqueueSteps(deps.jobs, due.map((d) => ({ step: d.step, batchId: d.id })));
    // The ingest job ends with the cleanup (and finds no ingesting left to do), so a cleanup is handed out as one.
    const cleanups = await dueFileCleanups(w.db, w.settings.leaseMs, PROVIDER_CLEANUP_MAX_ATTEMPTS);
    if (cleanups.length) w.logger.debug('batch sweep found provider files to delete', { count: cleanups.length });
    await enqueueSteps(deps.jobs, cleanups.map((batchId) => ({ step: 'ingest' as const, batchId })));
    // Real-time calls (sample tests) whose process stopped between reserving and charging give their money back.
    const released = await releaseStaleRealtime(w.db, STALE_REALTIME_MINUTES);
    if (released) w.logger.info('released unsettled real-time reservations', { count: released });
  },
});
