import type { Db } from '../../db/db.js';
import { providerOfModel } from '../../providers/pricing.js';
import { Conflict, HttpError, Invalid, NotFound } from '../../errors.js';
import { recordAudit } from '../audit/audit.repository.js';
import { createBatches, requestSubmit, type BatchLimits } from '../batches/batches.service.js';
import { coursesRefusingBatch } from '../privacy/privacy.repository.js';
import type { Admin } from '../queue/queue.service.js';
import { nextRunAt, REFUSED_BACKOFF_MS } from './schedule-times.js';
import type { ScheduleInput } from './schedules.schema.js';
import {
  advanceSchedule,
  claimDueSchedule,
  dueWork,
  findSchedule,
  finishRun,
  insertRun,
  insertSchedule,
  pickDueItems,
  scopeBelongs,
  setPaused,
  updateSchedule,
  type ScheduleRow,
} from './schedules.repository.js';
import type { RunOutcome } from './schedules.table.js';

/** Where scheduled batches go (the one batch provider so far, as in batches.service.ts). */

async function checkScope(db: Db, platformId: number, input: ScheduleInput): Promise<void> {
  const { course, task } = await scopeBelongs(db, platformId, input.courseId, input.taskId);
  const fields: Record<string, string> = {};
  if (!course) fields.course = 'Choose a course of this platform.';
  if (!task) fields.task = input.courseId ? 'Choose a task of the chosen course.' : 'Choose a task of this platform.';
  if (Object.keys(fields).length) throw Invalid(fields);
}

/** A new schedule, its first slot from now. Audited. */
export async function createSchedule(db: Db, admin: Admin, input: ScheduleInput, now: Date): Promise<number> {
  await checkScope(db, admin.platformId, input);
  const id = await insertSchedule(db, admin.platformId, admin.userId, input, nextRunAt(input, now, now));
  await recordAudit(db, { platformId: admin.platformId, actorId: admin.userId, actorKind: 'user', action: 'schedule.created', entityType: 'batch_schedule', entityId: id, details: { ...input } });
  return id;
}

/** A changed schedule: its next slot counted again from now (a new interval or cron applies at once). Audited. */
export async function changeSchedule(db: Db, admin: Admin, id: number, input: ScheduleInput, now: Date): Promise<void> {
  if (!(await findSchedule(db, admin.platformId, id, { forUpdate: true }))) throw NotFound('The schedule');
  await checkScope(db, admin.platformId, input);
  await updateSchedule(db, admin.platformId, id, input, nextRunAt(input, now, now));
  await recordAudit(db, { platformId: admin.platformId, actorId: admin.userId, actorKind: 'user', action: 'schedule.changed', entityType: 'batch_schedule', entityId: id, details: { ...input } });
}

/** Pause (nothing runs until resumed) or resume (the next slot counted from now: missed slots are not made up). */
export async function pauseSchedule(db: Db, admin: Admin, id: number, paused: boolean, now: Date): Promise<void> {
  const s = await findSchedule(db, admin.platformId, id, { forUpdate: true });
  if (!s) throw NotFound('The schedule');
  if (!(await setPaused(db, admin.platformId, id, paused, paused ? null : nextRunAt(s, now, now)))) {
    throw Conflict(paused ? `The schedule "${s.name}" is already paused.` : `The schedule "${s.name}" is not paused.`);
  }
  await recordAudit(db, { platformId: admin.platformId, actorId: admin.userId, actorKind: 'user', action: paused ? 'schedule.paused' : 'schedule.resumed', entityType: 'batch_schedule', entityId: id, details: {} });
}

export interface ScheduleRunResult {
  scheduleId: number;
  platformId: number;
  /** Null: a look of automatic mode that found its threshold not reached (no run recorded). */
  outcome: RunOutcome | 'duplicate' | null;
  batchIds: number[];
  message: string;
}

const plural = (n: number, word: string) => `${n.toLocaleString('en')} ${word}${n === 1 ? '' : word.endsWith('ch') ? 'es' : 's'}`;

/** Whether automatic mode's threshold is reached: N due items, or the oldest has waited T. */
export function thresholdReached(s: Pick<ScheduleRow, 'thresholdItems' | 'thresholdWaitMinutes'>, work: { items: number; oldestAt: Date | null }, now: Date): boolean {
  if (!work.items) return false;
  return work.items >= s.thresholdItems! || (work.oldestAt !== null && now.getTime() - work.oldestAt.getTime() >= s.thresholdWaitMinutes! * 60_000);
}

/**
 * Runs the next schedule whose slot has come, if any (null: none is due). Run in a transaction, which this
 * holds together: the schedule is locked (a second worker skips it), the slot's run row is inserted first (a
 * doubled run of the slot finds it and makes nothing), the batches are made through the one batch path
 * (createBatches: privacy, budgets with their freeze, reservations, audit) and, for a schedule that sends itself,
 * confirmed as an administrator would (requestSubmit: the freeze asked again). A crash before the commit leaves no
 * run row, no batch and the schedule still due. A refusal (frozen, nothing fits the budget) is a run recorded as
 * refused with the reason; the batches it had begun are rolled back to a savepoint, so nothing of them remains.
 */
export async function runNextDueSchedule(db: Db, limits: BatchLimits & { minSize: number }, now: Date): Promise<ScheduleRunResult | null> {
  const s = await claimDueSchedule(db, now);
  if (!s) return null;
  const slot = s.nextRunAt;
  const scope = { platformId: s.platformId, courseId: s.courseId, taskId: s.taskId, priority: s.priority };
  const result = (outcome: ScheduleRunResult['outcome'], message: string, batchIds: number[] = []): ScheduleRunResult => ({ scheduleId: s.id, platformId: s.platformId, outcome, batchIds, message });

  if (s.trigger === 'threshold' && !thresholdReached(s, await dueWork(db, scope), now)) {
    await advanceSchedule(db, s.id, nextRunAt(s, slot, now), false);
    return result(null, 'The threshold is not reached.');
  }
  const runId = await insertRun(db, s.id, s.platformId, slot);
  if (runId === null) {
    // This slot already ran (a replay after the schedule was set back): nothing is made twice.
    await advanceSchedule(db, s.id, nextRunAt(s, slot, now), false);
    return result('duplicate', 'This slot already ran.');
  }
  const run = await makeBatches(db, limits, s);
  await finishRun(db, runId, run);
  // Automatic mode looks every minute: a run that could not send (refused, or only held-back work) waits longer
  // before the next look, so a freeze or a course refusing batches does not write a run a minute.
  const next = (run.outcome === 'refused' || run.outcome === 'skipped') && s.trigger === 'threshold' ? new Date(Math.max(nextRunAt(s, slot, now).getTime(), now.getTime() + REFUSED_BACKOFF_MS)) : nextRunAt(s, slot, now);
  await advanceSchedule(db, s.id, next, true);
  await recordAudit(db, {
    platformId: s.platformId,
    actorKind: 'system',
    action: `schedule.run.${run.outcome}`,
    entityType: 'batch_schedule',
    entityId: s.id,
    details: { schedule: s.name, dueAt: slot.toISOString(), batchIds: run.batchIds, items: run.items, estCostMicros: run.estCostMicros, message: run.message },
  });
  return result(run.outcome, run.message, run.batchIds);
}

interface Run {
  outcome: RunOutcome;
  batchIds: number[];
  items: number;
  estCostMicros: number;
  message: string;
}

/** The batches of one run: the schedule's due items, within its bounds, through the one batch path. */
async function makeBatches(db: Db, limits: BatchLimits, s: ScheduleRow): Promise<Run> {
  const none = (outcome: RunOutcome, message: string): Run => ({ outcome, batchIds: [], items: 0, estCostMicros: 0, message });
  const picked = await pickDueItems(db, { platformId: s.platformId, courseId: s.courseId, taskId: s.taskId, priority: s.priority }, s.maxItems);
  // Work of a course that keeps it out of batches, and a model with too few items for a batch, stay queued, so one
  // such course never stops the rest of the platform's work (an administrator's selection would be refused whole).
  // Each item goes to its model's provider, which its course must approve (as an administrator's selection must).
  const refusing = new Set<string>();
  const keyOf = (i: { courseId: number; model: string }) => `${i.courseId} ${providerOfModel(i.model) ?? 'openai'}`;
  // One course and provider at a time: the rule (privacy.repository.ts) names courses by title, and a run holds few.
  for (const key of new Set(picked.map(keyOf))) {
    const [courseId, provider] = key.split(' ');
    if ((await coursesRefusingBatch(db, [Number(courseId)], provider!)).length) refusing.add(key);
  }
  let items = picked.filter((i) => !refusing.has(keyOf(i)));
  const perModel = new Map<string, number>();
  for (const i of items) perModel.set(i.model, (perModel.get(i.model) ?? 0) + 1);
  items = items.filter((i) => perModel.get(i.model)! >= limits.minSize);
  const held = picked.length - items.length;
  const heldNote = held ? ` ${plural(held, 'item')} stayed queued (their course keeps work out of batches, or their model has fewer than ${limits.minSize}).` : '';
  if (items.length < s.minItems) return none('skipped', `${plural(items.length, 'due item')}; this schedule waits for at least ${s.minItems}.${heldNote}`);
  const admin: Admin = { platformId: s.platformId, userId: s.createdBy };
  try {
    // A savepoint: a refusal takes back whatever this run began and leaves the run row to say why.
    return await db.transaction(async (sp) => {
      const created = await createBatches(sp, limits, admin, { scope: 'selected', ids: items.map((i) => i.id) }, { notes: `Made by the schedule "${s.name}".`, providerPolicy: s.providerPolicy, ...(s.targetTurnaroundHours ? { targetTurnaroundHours: s.targetTurnaroundHours } : {}) });
      if (!s.needsConfirmation) for (const b of created.batches) await requestSubmit(sp, admin, b.id);
      const left = created.leftQueued ? ` ${plural(created.leftQueued.items, 'item')} did not fit the budget of ${created.leftQueued.budgetScope} and stayed queued.` : '';
      const count = created.batches.reduce((a, b) => a + b.requestTotal, 0);
      return {
        outcome: s.needsConfirmation ? 'created' : 'sent',
        batchIds: created.batches.map((b) => b.id),
        items: count,
        estCostMicros: created.batches.reduce((a, b) => a + b.estCostMicros, 0),
        message: `${plural(created.batches.length, 'batch')} of ${plural(count, 'item')} ${s.needsConfirmation ? 'made, waiting for an administrator to confirm' : 'made and sent'}.${left}${heldNote}`,
      } satisfies Run;
    });
  } catch (err) {
    if (err instanceof HttpError && err.status < 500) return none('refused', err.message);
    throw err;
  }
}
