import type { Db } from '../../db/db.js';
import { Conflict } from '../../errors.js';
import { committedMicros, insertReleases, insertReservations, lockBudgetsFor, type ReservableBudget } from './ledger.repository.js';

/**
 * Money movements of batch work, in the cost ledger (idempotency key unique, so a retried job writes each
 * movement once): a reservation of the estimate when a batch is created (the moment money is committed), the
 * actual charge when a result is ingested, settling its reservation in the same row, and a release when a
 * request fails or never runs. Committed spend of a scope and month: COMMITTED_MICROS.
 *
 * Budgets (a later issue manages them) are enforced here already: nothing is reserved, so nothing is sent, while
 * a budget of the platform or course is frozen or would be exceeded. The budget rows are locked while checking,
 * so two administrators creating batches at once cannot both squeeze under the same limit.
 */

export interface Reservation {
  customId: string;
  queueItemId: number;
  courseId: number;
  amountMicros: number;
}

/** Money for people: four decimals under $10 (a single result costs fractions of a cent), else two. */
export function dollars(micros: number): string {
  return `$${(micros / 1_000_000).toFixed(micros < 10_000_000 ? 4 : 2)}`;
}

export async function reserveForBatch(db: Db, platformId: number, batchId: number, reservations: Reservation[]): Promise<void> {
  if (!reservations.length) return;
  const byCourse = new Map<number, number>();
  for (const r of reservations) byCourse.set(r.courseId, (byCourse.get(r.courseId) ?? 0) + r.amountMicros);
  await checkWithinBudgets(db, platformId, byCourse, (scope, already, adding, limit) =>
    `This batch would exceed the monthly budget of ${scope}: ${dollars(already)} already spent or committed, this batch is estimated at ${dollars(adding)}, the limit is ${dollars(limit)}. Select fewer items or raise the budget.`,
  );
  await insertReservations(db, platformId, batchId, reservations);
}

/**
 * An emergency override's reservations (batches.service, overrides.service): written without the budgets' check,
 * which the override is there to pass; its own monthly cap was checked instead. They count in committed spend like
 * any other, so the Costs page shows a budget past its limit when an override took it there.
 */
export async function reserveOverride(db: Db, platformId: number, batchId: number, reservations: Reservation[]): Promise<void> {
  await insertReservations(db, platformId, batchId, reservations);
}

/**
 * The gate every spending path passes before it commits money (issue 16): this month's budgets of the platform
 * and of these courses are locked, and a frozen one, or one that `byCourse` (course → amount) would take past its
 * limit, refuses with 409 and reserves nothing. The lock is held until the caller's transaction ends, so two
 * reservations at once (a batch and a sample test, fifty of either) cannot both squeeze under the same limit.
 */
export async function checkWithinBudgets(
  db: Db,
  platformId: number,
  byCourse: Map<number, number>,
  overLimit: (scope: string, alreadyMicros: number, addingMicros: number, limitMicros: number) => string,
): Promise<void> {
  const total = [...byCourse.values()].reduce((a, b) => a + b, 0);
  for (const b of await lockBudgetsFor(db, platformId, [...byCourse.keys()])) {
    if (b.frozen) throw Conflict(frozenMessage(b));
    const already = await committedMicros(db, b.id);
    const adding = b.courseId == null ? total : (byCourse.get(b.courseId) ?? 0);
    if (already + adding > b.limitMicros) throw Conflict(overLimit(scopeOf(b), already, adding, b.limitMicros));
  }
}

/** Which costs fit, and the budget that stopped the rest (its scope and what it had left before any of them). */
export interface BudgetFit {
  keep: boolean[];
  tightest: { scope: string; leftMicros: number } | null;
}

/**
 * Which of these costs (in the order given: highest priority, then oldest) fit in this month's budgets, taken in
 * turn (issue 16, item 3: a selection that does not fit becomes the largest batch that does). A cost that does not
 * fit its course's budget closes that course (nothing later of it is taken, so no newer item jumps an older one);
 * one that does not fit the platform's budget ends the selection. A frozen budget refuses everything (409): a
 * freeze is not a smaller batch. The budgets stay locked until the caller's transaction ends.
 */
export async function fitWithinBudgets(db: Db, platformId: number, costs: Array<{ courseId: number; amountMicros: number }>): Promise<BudgetFit> {
  const budgets = await lockBudgetsFor(db, platformId, [...new Set(costs.map((c) => c.courseId))]);
  const frozen = budgets.find((b) => b.frozen);
  if (frozen) throw Conflict(frozenMessage(frozen));
  const left = new Map<ReservableBudget, number>();
  for (const b of budgets) left.set(b, b.limitMicros - (await committedMicros(db, b.id)));
  // What each had left before this selection (the report names the tightest), read once under the lock.
  const before = new Map(left);
  const platform = budgets.find((b) => b.courseId == null);
  const byCourse = new Map(budgets.filter((b) => b.courseId != null).map((b) => [b.courseId!, b]));
  const closed = new Set<number>();
  let tightest: ReservableBudget | null = null;
  const keep = costs.map(() => false);
  for (const [k, c] of costs.entries()) {
    const course = byCourse.get(c.courseId);
    if (closed.has(c.courseId)) continue;
    if (course && left.get(course)! < c.amountMicros) {
      closed.add(c.courseId);
      tightest ??= course;
      continue;
    }
    if (platform && left.get(platform)! < c.amountMicros) {
      tightest = platform;
      break;
    }
    keep[k] = true;
    if (course) left.set(course, left.get(course)! - c.amountMicros);
    if (platform) left.set(platform, left.get(platform)! - c.amountMicros);
  }
  return { keep, tightest: tightest ? { scope: scopeOf(tightest), leftMicros: Math.max(0, before.get(tightest)!) } : null };
}

/**
 * The least any of this month's budgets of the platform and these courses has left (null: no budget), read under
 * the same row locks fitWithinBudgets takes: the cost optimizer keeps its choices within it.
 */
export async function leastBudgetLeft(db: Db, platformId: number, courseIds: number[]): Promise<number | null> {
  const budgets = await lockBudgetsFor(db, platformId, [...new Set(courseIds)]);
  let least: number | null = null;
  for (const b of budgets) {
    const left = b.limitMicros - (await committedMicros(db, b.id));
    least = least === null ? left : Math.min(least, left);
  }
  return least === null ? null : Math.max(0, least);
}

const scopeOf = (b: ReservableBudget) => (b.courseId == null ? 'the platform' : `course "${b.courseTitle ?? b.courseId}"`);
const frozenMessage = (b: ReservableBudget) => `The budget of ${scopeOf(b)} for this month is frozen: nothing can be sent until an administrator unfreezes it.`;

/**
 * The freeze gate every spending path passes besides the reservation (issue 16): confirming a batch, the send step
 * itself (a batch created or confirmed before the freeze stays unsent), sample tests. The first frozen budget of
 * the platform or of these courses, as a message; null when nothing is frozen.
 */
export async function frozenBudgetOf(db: Db, platformId: number, courseIds: number[]): Promise<string | null> {
  const frozen = (await lockBudgetsFor(db, platformId, courseIds, { lock: false })).find((b) => b.frozen);
  return frozen ? frozenMessage(frozen) : null;
}

/** The gate as a refusal (409), for a person's action. */
export async function refuseWhileFrozen(db: Db, platformId: number, courseIds: number[]): Promise<void> {
  const frozen = await frozenBudgetOf(db, platformId, courseIds);
  if (frozen) throw Conflict(frozen);
}

/**
 * Releases the reservations of these requests (failed, never run, or replaced by a charge). Each release is
 * written once, and only for a reservation that exists; it keeps the reservation's month and amount.
 */
export async function releaseReservations(db: Db, customIds: string[], note: string): Promise<void> {
  if (!customIds.length) return;
  await insertReleases(db, customIds, note);
}

