import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import type { BatchPlan, Timings } from '../faults.js';
import { unitHash } from '../hash.js';
import { AnthropicApiError } from './api-error.js';
import { completeMessage, type PromptCache } from './message.js';
import { validateMessageRequest } from './message-request.js';

/**
 * One Message Batch: its record, its state derived on every read (no timers, as on the OpenAI side) and the
 * background runner that answers its requests.
 *
 * Lifecycle: `in_progress` (for the configured validating + in-progress + finalizing time, and never before the
 * runner is done) → `ended`; a cancel → `canceling` (for finalizingMs) → `ended`, the requests not run `canceled`;
 * the expire fault or the 24-hour window → `ended`, the requests not run `expired`. While a batch runs its counts
 * are all `processing` (Anthropic's "non-processing counts are 0 until the whole batch ends"). A batch never fails
 * as a whole: a request the API would refuse is an `errored` result.
 */

export interface AnthropicBatchRequest {
  customId: string;
  params: unknown;
}

export interface ResultLine {
  customId: string;
  type: 'succeeded' | 'errored';
  json: string;
}

export interface EndedState {
  atMs: number;
  /** The results file: one line per request, in output order. */
  results: Buffer;
  counts: RequestCounts;
}

export interface RequestCounts {
  processing: number;
  succeeded: number;
  errored: number;
  canceled: number;
  expired: number;
}

export interface AnthropicBatchRecord {
  id: string;
  createdAtMs: number;
  expiresAtMs: number;
  timings: Timings;
  plan: BatchPlan;
  /** Requests in output order (a fixed shuffle), dropped once answered. */
  pending: AnthropicBatchRequest[];
  order: string[];
  outcomes: ResultLine[];
  gradedAtMs: number | null;
  cancel: { atMs: number; doneCount: number } | null;
  ended: EndedState | null;
}

export interface BatchStatusView {
  status: string;
  counts: RequestCounts;
  endedAtMs: number | null;
  cancelInitiatedAtMs: number | null;
}

/** Output order: a fixed shuffle by seed and custom_id, as results come back in any order. */
export function outputOrder(requests: AnthropicBatchRequest[], seed: string): AnthropicBatchRequest[] {
  return [...requests].sort((a, b) => unitHash(seed, 'order', a.customId) - unitHash(seed, 'order', b.customId));
}

function notRunLine(customId: string, type: 'canceled' | 'expired'): string {
  return JSON.stringify({ custom_id: customId, result: { type } });
}

function end(b: AnthropicBatchRecord, atMs: number, done: number, rest: 'canceled' | 'expired'): BatchStatusView {
  const answered = b.outcomes.slice(0, done);
  const lines = answered.map((o) => o.json);
  const notRun = b.order.slice(done);
  for (const customId of notRun) lines.push(notRunLine(customId, rest));
  const counts: RequestCounts = {
    processing: 0,
    succeeded: answered.filter((o) => o.type === 'succeeded').length,
    errored: answered.filter((o) => o.type === 'errored').length,
    canceled: rest === 'canceled' ? notRun.length : 0,
    expired: rest === 'expired' ? notRun.length : 0,
  };
  b.ended = { atMs, results: Buffer.from(lines.length ? `${lines.join('\n')}\n` : ''), counts };
  b.pending = [];
  return viewOfEnded(b);
}

function viewOfEnded(b: AnthropicBatchRecord): BatchStatusView {
  const e = b.ended as EndedState;
  return { status: 'ended', counts: e.counts, endedAtMs: e.atMs, cancelInitiatedAtMs: b.cancel?.atMs ?? null };
}

function running(b: AnthropicBatchRecord, status: string): BatchStatusView {
  return { status, counts: { processing: b.order.length, succeeded: 0, errored: 0, canceled: 0, expired: 0 }, endedAtMs: null, cancelInitiatedAtMs: b.cancel?.atMs ?? null };
}

/** Requests answered by time t: spread evenly over the run, never ahead of the runner. */
function doneAt(b: AnthropicBatchRecord, t: number, runMs: number): number {
  if (runMs <= 0) return b.outcomes.length;
  const share = Math.min(1, Math.max(0, (t - b.createdAtMs) / runMs));
  return Math.min(b.outcomes.length, Math.floor(b.order.length * share));
}

/** The batch as of `now`; a batch that has just ended writes its results here, once. */
export function viewBatch(b: AnthropicBatchRecord, now: number): BatchStatusView {
  if (b.ended) return viewOfEnded(b);
  const T = b.timings;
  const stuck = b.plan.stuck ? (b.plan.stuck.forMs ?? Infinity) : 0;
  const runMs = T.validatingMs + T.inProgressMs + T.finalizingMs;
  const runEnd = Math.max(b.createdAtMs + runMs + stuck, b.gradedAtMs ?? Infinity);
  if (b.cancel && b.cancel.atMs < runEnd) {
    const doneAtMs = b.cancel.atMs + T.finalizingMs;
    if (now >= doneAtMs && b.outcomes.length >= b.cancel.doneCount) return end(b, doneAtMs, b.cancel.doneCount, 'canceled');
    return running(b, 'canceling');
  }
  if (now < runEnd) {
    if (now >= b.expiresAtMs) return end(b, b.expiresAtMs, doneAt(b, b.expiresAtMs, runMs), 'expired');
    return running(b, b.plan.unknownStatus ?? 'in_progress');
  }
  // Every request answered — unless the "expire" fault stopped the runner part-way: the window closes when the
  // run ends, and the requests it never reached expired.
  return end(b, runEnd, b.outcomes.length, 'expired');
}

/** Requests answered so far (for a cancel, which keeps what finished). */
export function answeredAt(b: AnthropicBatchRecord, now: number): number {
  const T = b.timings;
  return doneAt(b, now, T.validatingMs + T.inProgressMs + T.finalizingMs);
}

function erroredLine(customId: string, err: AnthropicApiError, requestId: string): ResultLine {
  const json = JSON.stringify({ custom_id: customId, result: { type: 'errored', error: { type: 'error', error: err.errorObject(), request_id: requestId } } });
  return { customId, type: 'errored', json };
}

function injectedError(status: 400 | 500): AnthropicApiError {
  return status === 500
    ? new AnthropicApiError(500, 'Internal server error', 'api_error')
    : new AnthropicApiError(400, 'Injected fault (EMULATOR_FAULTS.lineErrorRate): the emulator rejected this request.', 'invalid_request_error');
}

/** One request of a batch: checked as the API checks it (asynchronously, so a bad one errors alone), then answered. */
export function answerRequest(b: AnthropicBatchRecord, r: AnthropicBatchRequest, cache: PromptCache, nowMs: number, requestId: () => string): ResultLine {
  try {
    const req = validateMessageRequest(r.params, true);
    if (unitHash(b.plan.seed, 'line-error', r.customId) < b.plan.lineErrorRate) return erroredLine(r.customId, injectedError(b.plan.lineErrorStatus), requestId());
    const message = completeMessage(req, b.plan.output, cache, { faultKey: r.customId, nowMs, tier: 'batch' });
    return { customId: r.customId, type: 'succeeded', json: JSON.stringify({ custom_id: r.customId, result: { type: 'succeeded', message } }) };
  } catch (err) {
    if (err instanceof AnthropicApiError) return erroredLine(r.customId, err, requestId());
    throw err;
  }
}

const SLICE = 25;

export interface RunnerContext {
  clock: () => number;
  cache: PromptCache;
  stopping: () => boolean;
  requestId: () => string;
}

/** Answers the batch's requests in output order, in small slices so the server keeps answering. */
export async function runAnthropicBatch(b: AnthropicBatchRecord, ctx: RunnerContext): Promise<void> {
  const target = b.plan.expireFraction !== null ? Math.floor(b.pending.length * b.plan.expireFraction) : b.pending.length;
  for (let i = 0; i < target; i += 1) {
    // Stop when the server closes, the batch ended (24 h window), or a cancel froze the set of finished requests.
    if (ctx.stopping() || b.ended || b.cancel) return;
    const r = b.pending[i];
    if (!r) break;
    b.outcomes.push(answerRequest(b, r, ctx.cache, ctx.clock(), ctx.requestId));
    if (i % SLICE === SLICE - 1) await yieldToEventLoop();
  }
  b.gradedAtMs = ctx.clock();
  b.pending = [];
}
