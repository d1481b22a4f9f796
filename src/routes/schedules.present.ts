import type { RunRow, ScheduleRow } from '../models/schedules/schedules.repository.js';
import { dollars } from '../models/budgets/budgets.service.js';
import { formatDateTime } from './present.js';

// What the Schedules page and the queue page show of a schedule and its runs (view models, never rows).

const clock = (m: number | null) => (m == null ? '' : `${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`);
const time = (d: Date) => ({ at: d.toISOString(), text: formatDateTime(d) });

export const OUTCOME_LABELS: Record<string, string> = { created: 'made, waiting for confirmation', sent: 'sent', skipped: 'nothing to send', refused: 'refused' };

/** "every 60 minutes", "cron 0 2 * * *", "at 200 items or after 240 minutes". */
export function describeTrigger(s: Pick<ScheduleRow, 'trigger' | 'intervalMinutes' | 'cron' | 'thresholdItems' | 'thresholdWaitMinutes'>): string {
  if (s.trigger === 'interval') return `every ${s.intervalMinutes} minute${s.intervalMinutes === 1 ? '' : 's'}`;
  if (s.trigger === 'cron') return `cron "${s.cron}" (UTC)`;
  return `automatic: at ${s.thresholdItems} queued items, or once the oldest has waited ${s.thresholdWaitMinutes} minutes`;
}

export function presentSchedule(s: ScheduleRow) {
  return {
    id: s.id,
    name: s.name,
    trigger: describeTrigger(s),
    window: s.windowStartMinute == null ? 'any time' : `${clock(s.windowStartMinute)}–${clock(s.windowEndMinute)} UTC`,
    scope: [s.courseTitle ? `course "${s.courseTitle}"` : 'every course', s.taskTitle ? `task "${s.taskTitle}"` : null, s.priority ? `${s.priority} priority` : null].filter(Boolean).join(', '),
    bounds: `${s.minItems}–${s.maxItems} items`,
    sending: s.needsConfirmation ? 'waits for confirmation' : 'sends itself',
    policy: s.providerPolicy === 'cheapest_in_time' ? `cheapest provider that meets the deadline (target ${s.targetTurnaroundHours ?? 24} h)` : "each prompt's provider",
    paused: s.pausedAt !== null,
    nextRun: s.pausedAt ? null : time(s.nextRunAt),
    lastRun: s.lastRunAt ? time(s.lastRunAt) : null,
  };
}

export function presentRun(r: RunRow) {
  return { ...time(r.dueAt), schedule: r.scheduleName, scheduleId: r.scheduleId, outcome: OUTCOME_LABELS[r.outcome] ?? r.outcome, refused: r.outcome === 'refused', batchIds: r.batchIds, items: r.items, cost: dollars(r.estCostMicros), message: r.message };
}

/** The form's values: a schedule's (editing), or what was typed (a refused form), as strings. */
export function formValues(s?: ScheduleRow): Record<string, string> {
  if (!s) return { trigger: 'interval', intervalMinutes: '60', thresholdItems: '100', thresholdWaitMinutes: '30', minItems: '1', maxItems: '1000', sending: 'confirm', providerPolicy: 'prompt', targetTurnaroundHours: '' };
  const str = (v: number | string | null) => (v == null ? '' : String(v));
  return {
    name: s.name,
    trigger: s.trigger,
    intervalMinutes: str(s.intervalMinutes),
    cron: str(s.cron),
    thresholdItems: str(s.thresholdItems),
    thresholdWaitMinutes: str(s.thresholdWaitMinutes),
    windowStart: clock(s.windowStartMinute),
    windowEnd: clock(s.windowEndMinute),
    course: str(s.courseId),
    task: str(s.taskId),
    priority: str(s.priority),
    minItems: String(s.minItems),
    maxItems: String(s.maxItems),
    sending: s.needsConfirmation ? 'confirm' : 'send',
    providerPolicy: s.providerPolicy,
    targetTurnaroundHours: s.targetTurnaroundHours == null ? '' : String(s.targetTurnaroundHours),
  };
}
