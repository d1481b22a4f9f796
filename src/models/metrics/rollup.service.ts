import type { Db } from '../../db/db.js';
import { activityOfDay, batchesOfDay, providerCountsOfDay, replaceDay, type NewDailyMetrics } from './metrics.repository.js';

/** A UTC day, `YYYY-MM-DD`. */
export const DAY_PATTERN = /^\d{4}-\d{2}-\d{2}$/;

/** `YYYY-MM-DD` naming a day of the calendar (not 2026-02-30, which Date would roll over into March). */
export function isCalendarDay(day: string): boolean {
  if (!DAY_PATTERN.test(day)) return false;
  const t = Date.parse(`${day}T00:00:00Z`);
  return !Number.isNaN(t) && new Date(t).toISOString().slice(0, 10) === day;
}

/** The UTC day before `now`: what the nightly run rolls up. */
export function yesterdayUtc(now = new Date()): string {
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() - 1)).toISOString().slice(0, 10);
}

/**
 * Computes one UTC day's metrics from the rows themselves (queue items, assessments, batches, the ledger) and
 * replaces whatever was stored for that day: running it again, or for any past day, gives the same rows. A platform
 * or course with nothing that day has no row. Run in a transaction. Returns the rows written.
 */
export async function rollupDay(db: Db, day: string): Promise<number> {
  if (!isCalendarDay(day)) throw new Error(`not a day: ${day}`);
  const [activity, providers, batches] = await Promise.all([activityOfDay(db, day), providerCountsOfDay(db, day), batchesOfDay(db, day)]);
  const rows = new Map<string, NewDailyMetrics>();
  const keyOf = (platformId: number, courseId: number | null) => `${platformId}:${courseId ?? 'platform'}`;
  const rowOf = (platformId: number, courseId: number | null): NewDailyMetrics => {
    const key = keyOf(platformId, courseId);
    let row = rows.get(key);
    if (!row) rows.set(key, (row = { day, platformId, courseId, providerCounts: {} }));
    return row;
  };
  for (const a of activity) {
    // Charges of a platform's own (no course) count in its totals only.
    if (!a.platform_level && a.course_id == null) continue;
    Object.assign(rowOf(a.platform_id, a.platform_level ? null : a.course_id), {
      assessmentsQueued: a.queued,
      assessmentsCompleted: a.completed,
      assessmentsFailed: a.failed,
      costMicros: a.cost_micros,
      avgQueueSeconds: a.avg_queue_seconds,
      avgProcessingSeconds: a.avg_processing_seconds,
      avgConfidence: a.avg_confidence,
    });
  }
  for (const p of providers) rowOf(p.platform_id, p.platform_level ? null : p.course_id).providerCounts![p.provider] = p.n;
  for (const b of batches) Object.assign(rowOf(b.platform_id, null), { batchesCreated: b.created, batchesCompleted: b.completed, batchesFailed: b.failed });
  await replaceDay(db, day, [...rows.values()]);
  return rows.size;
}
