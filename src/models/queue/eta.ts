import type { Db } from '../../db/db.js';
import { recentBatchFigures } from '../batches/batches.repository.js';
import { scheduledRounds } from '../schedules/schedule-eta.js';

/**
 * When will a student's work be graded? Batches are made by an administrator, not on a timer, so the honest answer
 * is an estimate from what this platform has actually done lately:
 *
 * - **cadence**: the median gap between the platform's last batch creations (how often an administrator batches),
 * - **batch size**: the mean number of requests in those batches (how much of the queue one round takes),
 * - **turnaround**: the median time from submission to the provider until the batch finished.
 *
 * A queued item at position p (1 = next) is picked up by round k = ⌈p / size⌉. Round 1 is expected one cadence
 * after the last batch (or now, if that moment has passed), each later round one cadence after the previous, and
 * the result one turnaround after its round. Items already in a batch only wait for the turnaround.
 * Without history the defaults below stand in (a daily batch, OpenAI's 24-hour completion window), so the first
 * estimates err on the late side rather than promising what nobody scheduled.
 *
 * A platform with a schedule that sends by itself (schedules/schedule-eta.ts) has a promise instead of a habit:
 * round 1 is its next run (automatic mode: when its threshold is reached, at the latest once the oldest item has
 * waited T), later rounds one interval (or T) apart, each taking at most the schedule's maximum items.
 */

export const DEFAULT_CADENCE_MS = 24 * 3_600_000;
export const DEFAULT_TURNAROUND_MS = 24 * 3_600_000;
/** How many recent batches the figures are taken from. */
export const HISTORY = 20;

export interface Throughput {
  cadenceMs: number;
  batchSize: number;
  turnaroundMs: number;
  lastBatchAt: Date | null;
  /** A schedule's next run, when one promises it (then cadence and size are the schedule's). */
  nextRoundAt?: Date | null;
  /** Whether the figures come from history (false: the defaults). */
  observed: { cadence: boolean; turnaround: boolean };
}

const median = (xs: number[]): number | null => {
  if (!xs.length) return null;
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

/** The platform's recent batching figures (see the module comment). */
export async function observedThroughput(db: Db, platformId: number, defaultBatchSize: number, now = new Date()): Promise<Throughput> {
  const rows = { rows: await recentBatchFigures(db, platformId, HISTORY) };
  const created = rows.rows.map((r) => new Date(r.created_at).getTime());
  const gaps = created.slice(1).map((t, i) => created[i]! - t).filter((g) => g > 0);
  const turnarounds = rows.rows
    .filter((r) => r.status === 'completed' && r.submitted_at && r.finished_at)
    .map((r) => new Date(r.finished_at!).getTime() - new Date(r.submitted_at!).getTime())
    .filter((d) => d >= 0);
  const sizes = rows.rows.map((r) => Number(r.request_total)).filter((n) => n > 0);
  const cadence = median(gaps);
  const turnaround = median(turnarounds);
  const scheduled = await scheduledRounds(db, platformId, now);
  if (scheduled) {
    return {
      cadenceMs: scheduled.cadenceMs,
      batchSize: Math.max(1, scheduled.batchSize),
      turnaroundMs: turnaround ?? DEFAULT_TURNAROUND_MS,
      lastBatchAt: created.length ? new Date(created[0]!) : null,
      nextRoundAt: scheduled.nextRoundAt,
      observed: { cadence: true, turnaround: turnaround !== null },
    };
  }
  return {
    cadenceMs: cadence ?? DEFAULT_CADENCE_MS,
    batchSize: sizes.length ? Math.max(1, Math.round(sizes.reduce((a, b) => a + b, 0) / sizes.length)) : Math.max(1, defaultBatchSize),
    turnaroundMs: turnaround ?? DEFAULT_TURNAROUND_MS,
    lastBatchAt: created.length ? new Date(created[0]!) : null,
    observed: { cadence: cadence !== null, turnaround: turnaround !== null },
  };
}

/** When a queued item at `position` (1 = next) should be graded. */
export function etaForQueued(position: number, t: Throughput, now: Date): Date {
  const round = Math.max(1, Math.ceil(position / t.batchSize));
  const nextRound = t.nextRoundAt ? Math.max(now.getTime(), t.nextRoundAt.getTime()) : t.lastBatchAt ? Math.max(now.getTime(), t.lastBatchAt.getTime() + t.cadenceMs) : now.getTime() + t.cadenceMs;
  return new Date(nextRound + (round - 1) * t.cadenceMs + t.turnaroundMs);
}

/** When an item already in a batch should be graded: one turnaround after it was sent (or from now, if not sent yet). */
export function etaForBatched(sentAt: Date | null, t: Throughput, now: Date): Date {
  const from = sentAt ? sentAt.getTime() : now.getTime();
  return new Date(Math.max(now.getTime() + 60_000, from + t.turnaroundMs));
}

/** "in about 3 hours": coarse on purpose, an estimate must not look like a promise. */
export function describeEta(eta: Date, now: Date): string {
  const ms = eta.getTime() - now.getTime();
  const min = Math.round(ms / 60_000);
  if (min <= 1) return 'within a few minutes';
  if (min < 60) return `in about ${Math.ceil(min / 5) * 5} minutes`;
  const hours = Math.round(ms / 3_600_000);
  if (hours < 36) return `in about ${hours} hour${hours === 1 ? '' : 's'}`;
  const days = Math.round(ms / 86_400_000);
  return `in about ${days} days`;
}
