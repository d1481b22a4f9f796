import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { ApiError } from '../api-error.js';
import { completeChat } from '../chat/completion.js';
import { validateChatRequest } from '../chat/request.js';
import { newId, unitHash } from '../hash.js';
import type { BatchRecord, LineOutcome } from './batch-record.js';
import { outputOrder, validateBatchInput, type InputLine } from './input-validation.js';

/**
 * Does a batch's work in the background, in small slices so the server keeps answering: validate the input file,
 * then answer each line in output order. The lifecycle reads how far it got; it never waits for it.
 */

export interface RunnerContext {
  clock: () => number;
  /** The input file's bytes, taken when the batch was created (deleting the file later does not matter). */
  content: Buffer;
  maxRequests: number;
  stopping: () => boolean;
}

const SLICE = 25;

function errorLine(customId: string, err: ApiError): LineOutcome {
  const json = JSON.stringify({
    id: newId('batch_req_', 32),
    custom_id: customId,
    response: { status_code: err.status, request_id: newId('', 32), body: err.toBody() },
    error: null,
  });
  return { customId, ok: false, json, usage: null };
}

function injectedError(status: 400 | 500): ApiError {
  return status === 500
    ? new ApiError(500, 'The server had an error while processing your request. Sorry about that!', 'server_error')
    : new ApiError(400, 'Injected fault (EMULATOR_FAULTS.lineErrorRate): the emulator rejected this request.', 'invalid_request_error', null, 'emulator_injected_fault');
}

export function answerLine(b: BatchRecord, line: InputLine, nowMs: number): LineOutcome {
  let req;
  try {
    req = validateChatRequest(line.body);
  } catch (err) {
    if (err instanceof ApiError) return errorLine(line.customId, err);
    throw err;
  }
  if (unitHash(b.plan.seed, 'line-error', line.customId) < b.plan.lineErrorRate) return errorLine(line.customId, injectedError(b.plan.lineErrorStatus));
  const body = completeChat(req, b.plan.output, { faultKey: line.customId, nowMs });
  const json = JSON.stringify({
    id: newId('batch_req_', 32),
    custom_id: line.customId,
    response: { status_code: 200, request_id: newId('', 32), body },
    error: null,
  });
  const u = body.usage;
  return {
    customId: line.customId,
    ok: true,
    json,
    usage: { input: u.prompt_tokens, cached: u.prompt_tokens_details.cached_tokens, output: u.completion_tokens, reasoning: u.completion_tokens_details.reasoning_tokens },
  };
}

export async function runBatch(b: BatchRecord, ctx: RunnerContext): Promise<void> {
  const checked = await validateBatchInput(ctx.content, b.endpoint, { maxRequests: ctx.maxRequests });
  b.model = checked.model;
  if (!checked.ok) {
    b.validation = { atMs: ctx.clock(), ok: false, errors: checked.errors };
    return;
  }
  const ordered = outputOrder(checked.lines, b.plan.seed);
  b.order = ordered.map((l) => l.customId);
  b.pending = ordered;
  b.validation = { atMs: ctx.clock(), ok: true, total: ordered.length };
  if (b.plan.fail) return;

  const target = b.plan.expireFraction !== null ? Math.floor(ordered.length * b.plan.expireFraction) : ordered.length;
  for (let i = 0; i < target; i += 1) {
    // Stop when the server closes, the batch ended (24 h window), or a cancel froze the set of finished lines.
    if (ctx.stopping() || b.final || b.cancel) return;
    const line = ordered[i];
    if (!line) break;
    b.outcomes.push(answerLine(b, line, ctx.clock()));
    if (i % SLICE === SLICE - 1) await yieldToEventLoop();
  }
  b.gradedAtMs = ctx.clock();
  b.pending = [];
}
