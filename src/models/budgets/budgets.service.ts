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

