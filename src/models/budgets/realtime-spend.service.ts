import { randomBytes } from 'node:crypto';
import type { Db, RootDb } from '../../db/db.js';
import { raiseBudgetAlerts } from './budget-alerts.service.js';
import { checkWithinBudgets, dollars, releaseReservations } from './budgets.service.js';
import { insertRealtimeCharge, insertRealtimeReservation, type RealtimeCall, type RealtimeCharge } from './ledger.repository.js';

/**
 * Real-time calls (sample tests, evaluation runs, real-time gradings) pay standard prices, twice a batch's, so they pass the same gate as a batch
 * (issue 16): their worst case is reserved under the budget lock before anything is sent, refused while a budget of
 * the course or platform is frozen or would be exceeded; the actual cost is charged after, settling the
 * reservation, and appears in every report as real-time spend beside batch spend. A call that throws releases its
 * reservation. Each step is its own short transaction around the provider call: no lock is held while the network
 * answers.
 */

export interface RealtimeSpend {
  platformId: number;
  courseId: number;
  taskId: number;
  /** Who is called, with which model. */
  provider: string;
  model: string;
  /** What the money is for, in the ledger's note ("sample test"). */
  what: string;
  /** The most the call may cost (real-time prices, every request at its maximum output). */
  worstMicros: number;
  /** The key its ledger movements share; a fresh `rt-…` id when not given (a call that writes nothing else). */
  customId?: string;
  /** The queue item a real-time grading is for (its ledger rows name it, as a batch's do). */
  queueItemId?: number;
}

/**
 * What the call's result writes, in the transaction that charges it (so the assessment and its charge commit
 * together, or neither): returns the assessment it wrote, which the charge names.
 */
export type RecordResult<T> = (tx: Db, result: T) => Promise<{ assessmentId: number | null }>;

/**
 * Reserves the worst case (409 when frozen or over a budget), then runs the call and charges what it cost, with
 * what `record` writes of its result in the same transaction.
 */
export async function spendRealtime<T>(db: RootDb, spend: RealtimeSpend, call: () => Promise<{ result: T; charge: RealtimeCharge | null }>, record?: RecordResult<T>): Promise<T> {
  const customId = spend.customId ?? `rt-${randomBytes(8).toString('hex')}`;
  const ledgerCall: RealtimeCall = { platformId: spend.platformId, courseId: spend.courseId, taskId: spend.taskId, provider: spend.provider, model: spend.model, customId, queueItemId: spend.queueItemId ?? null };
  await db.transaction((tx) => reserveRealtime(tx, ledgerCall, spend));
  let outcome: { result: T; charge: RealtimeCharge | null };
  try {
    outcome = await call();
  } catch (err) {
    await releaseReservations(db, [customId], `${spend.what} failed`);
    throw err;
  }
  const { charge } = outcome;
  await db.transaction(async (tx) => {
    const written = record ? await record(tx, outcome.result) : { assessmentId: null };
    if (charge && charge.amountMicros > 0) await insertRealtimeCharge(tx, customId, charge, spend.what, written.assessmentId);
    else await releaseReservations(tx, [customId], `${spend.what}: nothing billed`);
    await raiseBudgetAlerts(tx, spend.platformId);
  });
  return outcome.result;
}

async function reserveRealtime(db: Db, call: RealtimeCall, spend: RealtimeSpend): Promise<void> {
  await checkWithinBudgets(db, call.platformId, new Map([[call.courseId, spend.worstMicros]]), (scope, already, adding, limit) =>
    `This ${spend.what} could cost up to ${dollars(adding)} at real-time prices, more than the monthly budget of ${scope} has left: ${dollars(already)} already spent or committed of ${dollars(limit)}. Nothing was sent.`,
  );
  // No alert on the worst case: the charge, a fraction of it usually, is what reaches a threshold.
  await insertRealtimeReservation(db, call, spend.worstMicros, `${spend.what} (worst case)`);
}
