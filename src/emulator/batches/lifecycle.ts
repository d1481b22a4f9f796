import type { BatchError } from './input-validation.js';
import { emptyUsage, type BatchRecord, type FinalState, type TerminalStatus, type UsageTotals } from './batch-record.js';

/**
 * A batch's status, derived on every read from its creation time, its phase timings and how far the runner
 * got — no timers. validating → in_progress → finalizing → completed, or failed (after validating), expired
 * (the fault, or the 24 h window), cancelling → cancelled. Once terminal, the result files are written and the
 * outcome is frozen in batch.final.
 */

export const EXPIRED_MESSAGE = 'This request could not be executed before the completion window expired.';
export const CANCELLED_MESSAGE = 'This request was not executed because the batch was cancelled.';

export interface BatchTimes {
  inProgressAt: number | null;
  finalizingAt: number | null;
  cancellingAt: number | null;
}

export interface BatchView {
  status: string;
  times: BatchTimes & { completedAt: number | null; failedAt: number | null; expiredAt: number | null; cancelledAt: number | null };
  counts: { total: number; completed: number; failed: number };
  usage: UsageTotals;
  outputFileId: string | null;
  errorFileId: string | null;
  errors: BatchError[] | null;
}

/** Writes a result file and returns its id (the store's job; lifecycle only decides what goes in it). */
export type WriteResultFile = (batch: BatchRecord, kind: 'output' | 'error', lines: string[], atMs: number) => string;

const NO_TIMES = { completedAt: null, failedAt: null, expiredAt: null, cancelledAt: null };

function total(b: BatchRecord): number {
  return b.validation?.ok ? b.validation.total : 0;
}

/** Lines answered by time t: spread evenly over the in-progress phase, never ahead of the runner. */
function doneCountAt(b: BatchRecord, t: number, inProgressAt: number): number {
  const graded = b.outcomes.length;
  if (b.timings.inProgressMs === 0) return graded;
  const share = Math.min(1, Math.max(0, (t - inProgressAt) / b.timings.inProgressMs));
  return Math.min(graded, Math.floor(total(b) * share));
}

/** Counts and usage of the first `done` lines; a batch that never started (still validating) shows total 0. */
function countsOf(b: BatchRecord, done: number, started = true) {
  const outcomes = b.outcomes.slice(0, done);
  const completed = outcomes.filter((o) => o.ok).length;
  const usage = emptyUsage();
  for (const o of outcomes) {
    if (!o.usage) continue;
    usage.input += o.usage.input;
    usage.cached += o.usage.cached;
    usage.output += o.usage.output;
    usage.reasoning += o.usage.reasoning;
  }
  return { counts: { total: started ? total(b) : 0, completed, failed: outcomes.length - completed }, usage };
}

function notRunLine(customId: string, code: 'batch_expired' | 'batch_cancelled', message: string, id: string): string {
  return JSON.stringify({ id, custom_id: customId, response: null, error: { code, message } });
}

function tokenLimitError(model: string | null): BatchError {
  return {
    code: 'token_limit_exceeded',
    message: `Enqueued token limit reached for ${model ?? 'this model'} in organization org-emulator. Limit: 2,000,000 enqueued tokens. Please try again once some in_progress batches have been completed.`,
    param: null,
    line: null,
  };
}

function finalize(b: BatchRecord, status: TerminalStatus, atMs: number, done: number, times: BatchTimes, write: WriteResultFile, newLineId: () => string): BatchView {
  const outcomes = b.outcomes.slice(0, done);
  const output = outcomes.filter((o) => o.ok).map((o) => o.json);
  const errors = outcomes.filter((o) => !o.ok).map((o) => o.json);
  // Ended before in_progress (cancelled or expired while validating): no request was accepted, none is listed.
  const started = times.inProgressAt !== null;
  let notRun = 0;
  if (started && (status === 'expired' || status === 'cancelled')) {
    const code = status === 'expired' ? 'batch_expired' : 'batch_cancelled';
    const message = status === 'expired' ? EXPIRED_MESSAGE : CANCELLED_MESSAGE;
    for (const customId of b.order.slice(done)) errors.push(notRunLine(customId, code, message, newLineId()));
    notRun = b.order.length - done;
  }
  const { counts, usage } = countsOf(b, done, started);
  counts.failed += notRun;
  let errorList: BatchError[] | null = null;
  if (status === 'failed') errorList = b.validation && !b.validation.ok ? b.validation.errors : [tokenLimitError(b.model)];
  const final: FinalState = {
    status,
    atMs,
    ...times,
    errors: errorList,
    outputFileId: output.length ? write(b, 'output', output, atMs) : null,
    errorFileId: errors.length ? write(b, 'error', errors, atMs) : null,
    counts,
    usage,
  };
  b.final = final;
  b.pending = [];
  return viewOfFinal(b);
}

function viewOfFinal(b: BatchRecord): BatchView {
  const f = b.final as FinalState;
  return {
    status: f.status,
    times: {
      inProgressAt: f.inProgressAt,
      finalizingAt: f.finalizingAt,
      cancellingAt: f.cancellingAt,
      completedAt: f.status === 'completed' ? f.atMs : null,
      failedAt: f.status === 'failed' ? f.atMs : null,
      expiredAt: f.status === 'expired' ? f.atMs : null,
      cancelledAt: f.status === 'cancelled' ? f.atMs : null,
    },
    counts: f.counts,
    usage: f.usage,
    outputFileId: f.outputFileId,
    errorFileId: f.errorFileId,
    errors: f.errors,
  };
}

function running(b: BatchRecord, status: string, times: BatchTimes, done: number): BatchView {
  const { counts, usage } = countsOf(b, done, times.inProgressAt !== null);
  return { status, times: { ...times, ...NO_TIMES }, counts, usage, outputFileId: null, errorFileId: null, errors: null };
}

export function viewBatch(b: BatchRecord, now: number, write: WriteResultFile, newLineId: () => string): BatchView {
  if (b.final) return viewOfFinal(b);
  const T = b.timings;
  const { plan, cancel } = b;
  const end = (status: TerminalStatus, at: number, done: number, times: BatchTimes) => finalize(b, status, at, done, times, write, newLineId);

  const stuckValidating = plan.stuck?.phase === 'validating' ? (plan.stuck.forMs ?? Infinity) : 0;
  const validatedAt = b.validation ? Math.max(b.createdAtMs + T.validatingMs + stuckValidating, b.validation.atMs) : Infinity;
  const idle: BatchTimes = { inProgressAt: null, finalizingAt: null, cancellingAt: null };

  if (cancel && cancel.atMs < validatedAt) {
    const times = { ...idle, cancellingAt: cancel.atMs };
    const doneAt = cancel.atMs + T.finalizingMs;
    return now >= doneAt ? end('cancelled', doneAt, 0, times) : running(b, 'cancelling', times, 0);
  }
  if (now < validatedAt) {
    return now >= b.expiresAtMs ? end('expired', b.expiresAtMs, 0, idle) : running(b, 'validating', idle, 0);
  }
  if (!b.validation?.ok || plan.fail) return end('failed', validatedAt, 0, idle);

  const inProgressAt = validatedAt;
  const runEnd = Math.max(inProgressAt + T.inProgressMs, b.gradedAtMs ?? Infinity);
  const inProgress: BatchTimes = { ...idle, inProgressAt };

  if (cancel && cancel.atMs < runEnd) {
    const times = { ...inProgress, cancellingAt: cancel.atMs };
    const doneAt = cancel.atMs + T.finalizingMs;
    if (now >= doneAt && b.outcomes.length >= cancel.doneCount) return end('cancelled', doneAt, cancel.doneCount, times);
    return running(b, 'cancelling', times, cancel.doneCount);
  }
  if (now < runEnd) {
    if (now >= b.expiresAtMs) return end('expired', b.expiresAtMs, doneCountAt(b, b.expiresAtMs, inProgressAt), inProgress);
    return running(b, plan.unknownStatus ?? 'in_progress', inProgress, doneCountAt(b, now, inProgressAt));
  }
  // The "expire" fault: the window closes when the in-progress phase ends, with only part of the work done.
  if (plan.expireFraction !== null) return end('expired', runEnd, b.outcomes.length, inProgress);

  const all = b.outcomes.length;
  const finalizing: BatchTimes = { ...inProgress, finalizingAt: runEnd };
  if (cancel) {
    const times = { ...finalizing, cancellingAt: cancel.atMs };
    const doneAt = cancel.atMs + T.finalizingMs;
    return now >= doneAt ? end('cancelled', doneAt, all, times) : running(b, 'cancelling', times, all);
  }
  const stuckFinalizing = plan.stuck?.phase === 'finalizing' ? (plan.stuck.forMs ?? Infinity) : 0;
  const completedAt = runEnd + T.finalizingMs + stuckFinalizing;
  if (now >= completedAt) return end('completed', completedAt, all, finalizing);
  if (now >= b.expiresAtMs) return end('expired', b.expiresAtMs, all, finalizing);
  return running(b, 'finalizing', finalizing, all);
}
