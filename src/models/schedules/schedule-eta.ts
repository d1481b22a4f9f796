import type { Db } from '../../db/db.js';
import { dueWork, listSchedules, type ScheduleRow } from './schedules.repository.js';
import { cadenceOf } from './schedule-times.js';

/**
 * What the platform's schedules promise about the next batch, for the students' estimate (queue/eta.ts). Only a
 * schedule that covers the whole platform's queue (no course, task or priority filter) and sends by itself counts:
 * one waiting for an administrator's confirmation promises nothing about when the batch leaves, and one with a
 * filter says nothing about the other items. Among those, the one with the earliest next round wins.
 */
export interface ScheduledRounds {
  nextRoundAt: Date;
  cadenceMs: number;
  batchSize: number;
}

export async function scheduledRounds(db: Db, platformId: number, now: Date): Promise<ScheduledRounds | null> {
  const usable = (await listSchedules(db, platformId)).filter((s) => !s.pausedAt && !s.needsConfirmation && s.courseId == null && s.taskId == null && s.priority == null);
  let best: ScheduledRounds | null = null;
  for (const s of usable) {
    const next = await nextRoundOf(db, s, now);
    if (!best || next.getTime() < best.nextRoundAt.getTime()) best = { nextRoundAt: next, cadenceMs: cadenceOf(s, now), batchSize: s.maxItems };
  }
  return best;
}

/** A timed schedule runs at its next slot; automatic mode when the threshold is reached (at the latest, once the oldest has waited T). */
async function nextRoundOf(db: Db, s: ScheduleRow, now: Date): Promise<Date> {
  if (s.trigger !== 'threshold') return s.nextRunAt;
  const work = await dueWork(db, { platformId: s.platformId, courseId: null, taskId: null, priority: null });
  if (work.items >= s.thresholdItems!) return s.nextRunAt;
  const byWait = (work.oldestAt ?? now).getTime() + s.thresholdWaitMinutes! * 60_000;
  return new Date(Math.max(s.nextRunAt.getTime(), byWait));
}
