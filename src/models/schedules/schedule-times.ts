import { CronExpressionParser } from 'cron-parser';

/**
 * When a schedule runs next (pure: no database, no clock of its own). Times are UTC: a platform's administrators
 * may sit in several time zones, and the page says so beside every field.
 */

export interface ScheduleTiming {
  trigger: 'interval' | 'cron' | 'threshold';
  intervalMinutes: number | null;
  cron: string | null;
  windowStartMinute: number | null;
  windowEndMinute: number | null;
}

const MINUTE = 60_000;
const DAY_MINUTES = 24 * 60;

/** How often automatic mode looks at the queue: each look is a slot (a run is recorded only when it acts). */
export const THRESHOLD_CHECK_MS = MINUTE;
/** After a refused automatic run (a freeze, a spent budget), the next look waits this long, not a minute. */
export const REFUSED_BACKOFF_MS = 15 * MINUTE;

/** Why a cron expression is not accepted (null: it is). Five fields, UTC; seconds are not offered. */
export function cronProblem(expr: string): string | null {
  const fields = expr.trim().split(/\s+/);
  if (fields.length !== 5) return `A cron expression has five fields (minute hour day month weekday), e.g. "0 2 * * *" for 02:00 UTC daily; this one has ${fields.length}.`;
  try {
    CronExpressionParser.parse(expr, { tz: 'UTC', strict: false }).next();
    return null;
  } catch (err) {
    return `This cron expression is not valid: ${err instanceof Error ? err.message : String(err)}.`;
  }
}

const truncMinute = (t: number) => Math.floor(t / MINUTE) * MINUTE;

/** Whether a time falls inside the daily window (no window: always). A window may wrap past midnight (22:00–06:00). */
export function inWindow(at: Date, t: Pick<ScheduleTiming, 'windowStartMinute' | 'windowEndMinute'>): boolean {
  if (t.windowStartMinute == null || t.windowEndMinute == null) return true;
  const m = at.getUTCHours() * 60 + at.getUTCMinutes();
  const { windowStartMinute: s, windowEndMinute: e } = t;
  return s < e ? m >= s && m < e : m >= s || m < e;
}

/** The time itself when inside the window, else the window's next start. */
function intoWindow(at: Date, t: ScheduleTiming): Date {
  if (inWindow(at, t)) return at;
  const dayStart = Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), at.getUTCDate());
  let start = dayStart + t.windowStartMinute! * MINUTE;
  if (start <= at.getTime()) start += DAY_MINUTES * MINUTE;
  return new Date(start);
}

/**
 * The slot after `previous` (the slot just run, or the moment the schedule was made or resumed), never in the past:
 * a worker that was down runs the schedule once when it is back, not once per missed slot.
 */
export function nextRunAt(t: ScheduleTiming, previous: Date, now: Date): Date {
  const floor = Math.max(previous.getTime(), now.getTime());
  let next: number;
  if (t.trigger === 'interval') {
    const step = t.intervalMinutes! * MINUTE;
    const k = Math.max(1, Math.ceil((floor - previous.getTime() + 1) / step));
    next = previous.getTime() + k * step;
  } else if (t.trigger === 'cron') {
    next = CronExpressionParser.parse(t.cron!, { tz: 'UTC', currentDate: new Date(floor) }).next().getTime();
  } else {
    next = truncMinute(floor) + THRESHOLD_CHECK_MS;
  }
  // A slot is a whole minute (the run's unique key), so a doubled run of the same slot is the same row.
  const slot = new Date(truncMinute(next));
  // A cron or interval slot outside the window moves to the window's start; the cron's own times inside it stay.
  return intoWindow(slot.getTime() > now.getTime() ? slot : new Date(truncMinute(now.getTime()) + MINUTE), t);
}

/** The typical gap between runs, for the students' estimate (eta.ts): an interval, or a cron's next two slots. */
export function cadenceOf(t: ScheduleTiming & { thresholdWaitMinutes: number | null }, now: Date): number {
  if (t.trigger === 'interval') return t.intervalMinutes! * MINUTE;
  if (t.trigger === 'threshold') return t.thresholdWaitMinutes! * MINUTE;
  const it = CronExpressionParser.parse(t.cron!, { tz: 'UTC', currentDate: now });
  const a = it.next().getTime();
  return it.next().getTime() - a;
}
