import type { Db } from '../db/db.js';
import { jobBacklog } from '../db/job-backlog.repository.js';
import { BATCH_STATUSES } from '../models/batches/batch-state.js';
import { QUEUE_STATUSES } from '../models/queue/queue.table.js';
import { batchesByStatus, gradeSyncBacklog, queueItemsByStatus } from './metrics.repository.js';
import type { Metrics } from './registry.js';

/**
 * Sets the gauges read from the database, just before a scrape. Every known status gets a value (0 included), so
 * a series does not vanish when its last row moves on.
 */
export async function refreshDatabaseGauges(db: Db, metrics: Metrics): Promise<void> {
  const [queue, batches, gradeSync, jobs] = await Promise.all([queueItemsByStatus(db), batchesByStatus(db), gradeSyncBacklog(db), jobBacklogOrNone(db)]);
  for (const status of QUEUE_STATUSES) metrics.queueItems.set({ status }, queue.get(status) ?? 0);
  for (const status of BATCH_STATUSES) metrics.batches.set({ status }, batches.get(status) ?? 0);
  metrics.gradeSyncBacklog.set(gradeSync);
  metrics.jobsBacklog.set(jobs.due);
  metrics.jobsOldestPendingSeconds.set(jobs.oldestDueSeconds ?? 0);
}

/** agenda_jobs appears with the first job runner: before that nothing waits. */
async function jobBacklogOrNone(db: Db) {
  try {
    return await jobBacklog(db);
  } catch (err) {
    if (isMissingTable(err)) return { due: 0, oldestDueSeconds: null };
    throw err;
  }
}

/** PostgreSQL's undefined_table, as pg throws it or wrapped by drizzle (DrizzleQueryError's cause). */
export function isMissingTable(err: unknown): boolean {
  const e = err as { code?: string; cause?: { code?: string } } | undefined;
  return e?.code === '42P01' || e?.cause?.code === '42P01';
}
