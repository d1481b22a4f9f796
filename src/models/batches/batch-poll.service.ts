import type { Db } from '../../db/db.js';
import { ProviderError, type BatchSnapshot } from '../../providers/index.js';
import { recordAudit } from '../audit/audit.repository.js';
import { notifyBatchEnded } from '../notifications/notices.service.js';
import { pollDelayMs, later, providerOf, type BatchWorker, type NextStep } from './batch-worker.js';
import { cancelUnsentBatch } from './batches.service.js';
import { cancelIfPastSla } from '../failover/failover.service.js';
import { findBatchById, type BatchRow } from './batches.repository.js';
import { BATCH_STATUSES, isTerminal, needs, type BatchStatus } from './batch-state.js';
import { clearCancelSend, markTimedOut, recordBatchError, takeCancelSend, takePollSlot, writeSnapshot } from './batch-steps.repository.js';

const minutes = (ms: number) => (ms >= 3_600_000 ? `${Math.round(ms / 360_000) / 10} h` : `${Math.round(ms / 6000) / 10} min`);

/**
 * Brings our row up to date with the provider's snapshot. Counts and file ids always; the status only forward
 * (submitted → processing → a terminal state), in one conditional update on the status we read, so two workers
 * polling at once move it once. Returns the status now in force.
 */
export async function applySnapshot(db: Db, batch: BatchRow, snap: BatchSnapshot): Promise<BatchStatus> {
  // Forward only: along the list of statuses, and never from one terminal status to another.
  const rank = (s: BatchStatus) => (isTerminal(s) ? Infinity : BATCH_STATUSES.indexOf(s));
  const moves = rank(snap.status) > rank(batch.status);
  const status = await writeSnapshot(db, batch.id, batch.status, snap, moves);
  if (moves && status) {
    await recordAudit(db, {
      platformId: batch.platformId,
      actorKind: 'system',
      action: `batch.${snap.status}`,
      entityType: 'batch',
      entityId: batch.id,
      details: { from: batch.status, providerStatus: snap.providerStatus, counts: snap.requestCounts, problem: snap.problem },
    });
    if (snap.status === 'failed' || snap.status === 'expired') await notifyBatchEnded(db, { ...batch, status: snap.status }, snap.problem ?? null);
  }
  return status ?? (await findBatchById(db, batch.id))!.status;
}

/**
 * The poll step. One poll per due time: the poll slot is taken with a conditional update (next_poll_at moves on),
 * so duplicate poll jobs (a kick, a sweep, a retry) collapse into one. Polls back off from BATCH_POLL_MIN_MS to
 * BATCH_POLL_MAX_MS. A batch validating or running longer than its state's timeout is cancelled.
 */
export async function pollBatch(w: BatchWorker, batchId: number): Promise<NextStep[]> {
  const batch = await findBatchById(w.db, batchId);
  if (!batch?.providerBatchId || !needs('poll', batch)) return batch && needs('ingest', batch) ? [{ step: 'ingest', batchId }] : [];
  const delay = pollDelayMs(w.settings, batch.polls + 1);
  if (!(await takePollSlot(w.db, batchId, batch.polls, delay, Math.min(250, Math.floor(w.settings.pollMinMs / 2))))) return [];
  const next: NextStep = { step: 'poll', batchId, at: later(delay) };
  if (batch.cancelRequestedAt && !batch.cancelSentAt) return [{ step: 'cancel', batchId }, next];

  let snap: BatchSnapshot;
  try {
    snap = await providerOf(w, batch).getBatch(batch.providerBatchId);
    await recordAudit(w.db, { platformId: batch.platformId, actorKind: 'system', action: 'provider.polled', entityType: 'batch', entityId: batchId, details: { provider: batch.provider, providerStatus: snap.providerStatus, counts: snap.requestCounts } });
  } catch (err) {
    if (!(err instanceof ProviderError)) throw err;
    w.logger.warn('polling a batch failed; trying again later', { batchId, error: err.message });
    await recordAudit(w.db, { platformId: batch.platformId, actorKind: 'system', action: 'provider.poll_failed', entityType: 'batch', entityId: batchId, details: { provider: batch.provider, error: err.message.slice(0, 300) } });
    await recordBatchError(w.db, batchId, `Could not read the batch at the provider: ${err.message}`);
    return [next];
  }
  const status = await applySnapshot(w.db, batch, snap);
  if (isTerminal(status)) return [{ step: 'ingest', batchId }];

  const fresh = (await findBatchById(w.db, batchId))!;
  // Past the platform's SLA under an automatic failover policy: cancelled there, then failed over (failover.service.ts).
  // One transaction: the cancel asked for, its audit and the provider's mark go together or not at all.
  if (await w.db.transaction((tx) => cancelIfPastSla(tx, fresh))) return [{ step: 'cancel', batchId }, next];
  const since = fresh.status === 'submitted' ? fresh.submittedAt : (fresh.processingAt ?? fresh.submittedAt);
  const limit = fresh.status === 'submitted' ? w.settings.submittedTimeoutMs : w.settings.processingTimeoutMs;
  if (since && Date.now() - since.getTime() > limit && !fresh.cancelRequestedAt) {
    const reason = `${fresh.status === 'submitted' ? 'Still being validated' : 'Still running'} after ${minutes(limit)} (the limit for this state), so it was cancelled; finished requests are kept, the rest go back to the queue.`;
    if (await markTimedOut(w.db, batchId, fresh.status, reason)) {
      await recordAudit(w.db, { platformId: batch.platformId, actorKind: 'system', action: 'batch.timed_out', entityType: 'batch', entityId: batchId, details: { status: fresh.status, limitMs: limit } });
      return [{ step: 'cancel', batchId }, next];
    }
  }
  return [next];
}

/**
 * The cancel step. A batch never sent is cancelled here and now (items back to the queue). A batch at the provider
 * is asked to cancel once (cancel_sent_at is taken with a conditional update); the provider then reports
 * cancelling and later cancelled, and ingestion keeps what finished and queues the rest again.
 */
export async function cancelBatchWork(w: BatchWorker, batchId: number): Promise<NextStep[]> {
  const batch = await findBatchById(w.db, batchId);
  if (!batch || !needs('cancel', batch)) return [];
  if (batch.status === 'created' && !batch.providerBatchId) {
    const done = await w.db.transaction((tx) => cancelUnsentBatch(tx, batchId, batch.error ?? 'Cancelled by an administrator before it was sent.', { userId: null }));
    // Not done: a worker is sending it right now; once sent, its first poll sees the request and cancels it there.
    return done ? [] : [{ step: 'cancel', batchId, at: later(Math.max(1000, w.settings.pollMinMs)) }];
  }
  if (!batch.providerBatchId) return [];
  if (!(await takeCancelSend(w.db, batchId))) return [];
  let snap: BatchSnapshot;
  try {
    snap = await providerOf(w, batch).cancelBatch(batch.providerBatchId);
  } catch (err) {
    if (!(err instanceof ProviderError)) throw err;
    if (err.retryable) {
      await clearCancelSend(w.db, batchId);
      return [{ step: 'cancel', batchId, at: later(pollDelayMs(w.settings, 3)) }];
    }
    await recordBatchError(w.db, batchId, `The provider refused to cancel the batch: ${err.message}`);
    return [{ step: 'poll', batchId }];
  }
  await recordAudit(w.db, { platformId: batch.platformId, actorKind: 'system', action: 'batch.cancel_sent', entityType: 'batch', entityId: batchId, details: { providerStatus: snap.providerStatus } });
  const status = await applySnapshot(w.db, { ...batch, status: batch.status }, snap);
  return isTerminal(status) ? [{ step: 'ingest', batchId }] : [{ step: 'poll', batchId, at: later(pollDelayMs(w.settings, 0)) }];
}
