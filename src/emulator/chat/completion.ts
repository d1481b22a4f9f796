import type { OutputFaults } from '../faults.js';
import { hexHash, newId, unitHash } from '../hash.js';
import { intendedAnswer, requestKey, type IntendedAnswer } from '../grader/answer.js';
import { textOf, type ValidChatRequest } from './request.js';
import { cutToTokens, messageListTokens, textTokens } from './tokens.js';

/**
 * A chat completion for a checked request: the grader's answer, then the injected output faults, then the
 * request's token limit, with usage counted the way the API bills it.
 */

export const REFUSAL_TEXT = "I'm sorry, but I can't help with grading this submission.";

// The API caches prompt prefixes of 1,024 tokens or more, in steps of 128. We treat the system message (the
// same for every submission of a task) as the cached prefix: a stateless stand-in for "seen recently".
const CACHE_MIN_TOKENS = 1024;
const CACHE_STEP = 128;

export interface ChatCompletionBody {
  id: string;
  object: 'chat.completion';
  created: number;
  model: string;
  choices: Array<{
    index: number;
    message: { role: 'assistant'; content: string | null; refusal: string | null; annotations: never[] };
    logprobs: null;
    finish_reason: 'stop' | 'length';
  }>;
  usage: {
    prompt_tokens: number;
    completion_tokens: number;
    total_tokens: number;
    prompt_tokens_details: { cached_tokens: number; audio_tokens: number };
    completion_tokens_details: { reasoning_tokens: number; audio_tokens: number; accepted_prediction_tokens: number; rejected_prediction_tokens: number };
  };
  service_tier: string;
  system_fingerprint: string;
}

function cachedTokens(req: ValidChatRequest): number {
  const first = req.messages[0];
  if (!first || (first.role !== 'system' && first.role !== 'developer')) return 0;
  const prefix = messageListTokens(req.model, [{ role: first.role, content: textOf(first) }]);
  if (prefix < CACHE_MIN_TOKENS) return 0;
  return Math.min(req.promptTokens, Math.floor(prefix / CACHE_STEP) * CACHE_STEP);
}

/** Pushes the first criterion above its maximum (and the total with it): the "out of range" fault. */
function outOfRange(answer: IntendedAnswer): unknown {
  if (answer.kind !== 'grading') return answer.value;
  const value = structuredClone(answer.value) as { criteria: Record<string, { score: number }>; total_score: number };
  const [id, first] = Object.entries(value.criteria)[0] ?? [];
  if (id && first) {
    const above = (answer.maxima?.[id] ?? first.score) + 1;
    value.total_score += above - first.score;
    first.score = above;
  }
  return value;
}

/**
 * The answer depends only on the request (same request, same answer); injected faults are rolled per faultKey —
 * the custom_id of a batch line, or the request itself for a real-time call.
 */
export function completeChat(req: ValidChatRequest, faults: OutputFaults, options: { faultKey?: string; nowMs: number }): ChatCompletionBody {
  const key = requestKey(req);
  const faultKey = options.faultKey ?? key;
  const roll = (what: string) => unitHash(faults.seed, what, faultKey);
  // Reasoning models spend hidden tokens before answering; a fixed amount per request keeps usage deterministic.
  const reasoningTokens = req.reasoning ? 64 + Math.floor(unitHash('reasoning', key) * 448) : 0;

  let content: string | null;
  let refusal: string | null = null;
  let finishReason: 'stop' | 'length' = 'stop';
  if (roll('refusal') < faults.refusalRate) {
    content = null;
    refusal = REFUSAL_TEXT;
  } else {
    const answer = intendedAnswer(req, faults.seed);
    const value = roll('out-of-range') < faults.outOfRangeOutputRate ? outOfRange(answer) : answer.value;
    content = typeof value === 'string' ? value : JSON.stringify(value);
    if (answer.fenced) content = `\`\`\`json\n${content}\n\`\`\``;
    if (roll('malformed') < faults.malformedOutputRate) {
      // A model cut off mid-answer: the classic way invalid JSON reaches a client.
      content = cutToTokens(req.model, content, Math.max(1, Math.floor(textTokens(req.model, content) * 0.6)));
      finishReason = 'length';
    }
  }
  const visible = textTokens(req.model, content ?? refusal ?? '');
  let completionVisible = visible;
  if (req.maxCompletionTokens !== null && visible + reasoningTokens > req.maxCompletionTokens && content !== null) {
    completionVisible = Math.max(0, req.maxCompletionTokens - reasoningTokens);
    content = cutToTokens(req.model, content, completionVisible);
    completionVisible = textTokens(req.model, content);
    finishReason = 'length';
  }
  const completionTokens = completionVisible + reasoningTokens;
  return {
    id: newId('chatcmpl-', 29),
    object: 'chat.completion',
    created: Math.floor(options.nowMs / 1000),
    model: req.responseModel,
    choices: [{ index: 0, message: { role: 'assistant', content, refusal, annotations: [] }, logprobs: null, finish_reason: finishReason }],
    usage: {
      prompt_tokens: req.promptTokens,
      completion_tokens: completionTokens,
      total_tokens: req.promptTokens + completionTokens,
      prompt_tokens_details: { cached_tokens: cachedTokens(req), audio_tokens: 0 },
      completion_tokens_details: { reasoning_tokens: reasoningTokens, audio_tokens: 0, accepted_prediction_tokens: 0, rejected_prediction_tokens: 0 },
    },
    // The spec allows auto|default|flex|scale|priority|fast; batch lines report "default" too.
    service_tier: 'default',
    system_fingerprint: `fp_${hexHash(10, req.responseModel)}`,
  };
}
