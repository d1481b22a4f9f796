import { z } from 'zod';
import type { TokenUsage } from '../pricing.js';
import type { BatchResultLine, ChatAnswer } from '../provider.js';

/**
 * Anthropic's answers in our terms: a Message (real-time, or a batch's succeeded result) → ChatAnswer, and one line
 * of a Message Batch's results → BatchResultLine. Shapes as @anthropic-ai/sdk types them (Message, Usage,
 * MessageBatchIndividualResponse), looser where the API may add fields or values.
 */

const usageSchema = z.object({
  // Input tokens after the last cache breakpoint: neither read from nor written to the cache.
  input_tokens: z.number().int().min(0),
  output_tokens: z.number().int().min(0),
  cache_creation_input_tokens: z.number().int().min(0).nullish(),
  cache_read_input_tokens: z.number().int().min(0).nullish(),
  cache_creation: z.object({ ephemeral_5m_input_tokens: z.number().int().min(0), ephemeral_1h_input_tokens: z.number().int().min(0) }).nullish(),
  output_tokens_details: z.object({ thinking_tokens: z.number().int().min(0).nullish() }).nullish(),
});
export type AnthropicUsage = z.infer<typeof usageSchema>;

const contentBlockSchema = z.union([
  z.object({ type: z.literal('text'), text: z.string() }),
  z.object({ type: z.literal('tool_use'), id: z.string(), name: z.string(), input: z.unknown() }),
  // Blocks we never ask for (thinking, server tools…) are kept by type only.
  z.object({ type: z.string() }),
]);

export const messageSchema = z.object({
  id: z.string(),
  type: z.literal('message'),
  role: z.literal('assistant'),
  model: z.string(),
  content: z.array(contentBlockSchema),
  stop_reason: z.string().nullish(),
  usage: usageSchema,
});
export type AnthropicMessage = z.infer<typeof messageSchema>;

/**
 * Anthropic usage → TokenUsage. Anthropic's `input_tokens` counts only the tokens after the last cache breakpoint;
 * cache reads and cache writes come on top, so all three add up to every input token. Cache writes are split by
 * entry length (5 minutes, 1 hour) when the usage says so, and otherwise counted as 5-minute writes (the default).
 */
export function fromAnthropicUsage(usage: AnthropicUsage): TokenUsage {
  const read = usage.cache_read_input_tokens ?? 0;
  const split = usage.cache_creation;
  const written = Math.max(usage.cache_creation_input_tokens ?? 0, split ? split.ephemeral_5m_input_tokens + split.ephemeral_1h_input_tokens : 0);
  const oneHour = split?.ephemeral_1h_input_tokens ?? 0;
  return {
    inputTokens: usage.input_tokens + read + written,
    cachedInputTokens: read,
    outputTokens: usage.output_tokens,
    reasoningTokens: usage.output_tokens_details?.thinking_tokens ?? 0,
    cacheWriteTokens: written - oneHour,
    cacheWrite1hTokens: oneHour,
  };
}

/** stop_reason → the finish reason evaluate.ts reads ("length": cut off, so the JSON may be incomplete). */
function finishReasonOf(stopReason: string | null | undefined): string {
  switch (stopReason) {
    case 'tool_use':
    case 'end_turn':
    case 'stop_sequence':
      return 'stop';
    case 'max_tokens':
    case 'model_context_window_exceeded':
      return 'length';
    default:
      return stopReason ?? 'unknown';
  }
}

/**
 * The answer: the input of the answer tool's call, as JSON text (what a response format would have given), or
 * the model's text when it called no tool. A refusal (`stop_reason: "refusal"`) has no answer, only its words.
 */
export function toChatAnswer(message: AnthropicMessage, toolName: string | null = null): ChatAnswer {
  const text = message.content.flatMap((b) => (b.type === 'text' && 'text' in b ? [b.text] : [])).join('');
  const call = message.content.find((b): b is { type: 'tool_use'; id: string; name: string; input: unknown } => b.type === 'tool_use' && 'input' in b && (toolName === null || (b as { name: string }).name === toolName));
  const usage = fromAnthropicUsage(message.usage);
  if (message.stop_reason === 'refusal') {
    return { content: null, refusal: text || 'Claude declined to answer (stop_reason "refusal").', finishReason: 'refusal', model: message.model, usage };
  }
  return {
    content: call ? JSON.stringify(call.input ?? null) : text || null,
    refusal: null,
    finishReason: finishReasonOf(message.stop_reason),
    model: message.model,
    usage,
  };
}

const errorObjectSchema = z.object({ type: z.string(), message: z.string().nullish() });

/** MessageBatchIndividualResponse: {custom_id, result: succeeded | errored | canceled | expired}. */
const resultLineSchema = z.object({
  custom_id: z.string().min(1),
  result: z.union([
    z.object({ type: z.literal('succeeded'), message: z.unknown() }),
    z.object({
      type: z.literal('errored'),
      // ErrorResponse {type: "error", error: {type, message}, request_id}.
      error: z.object({ type: z.literal('error').optional(), error: errorObjectSchema, request_id: z.string().nullish() }),
    }),
    z.object({ type: z.literal('canceled') }),
    z.object({ type: z.literal('expired') }),
  ]),
});

/** Error types worth sending again later: the request was fine, Anthropic was not (rate limit, overload, outage). */
const RETRYABLE_ERRORS = new Set(['rate_limit_error', 'overloaded_error', 'api_error', 'timeout_error']);
const STATUS_OF_ERROR: Record<string, number> = {
  invalid_request_error: 400,
  authentication_error: 401,
  billing_error: 402,
  permission_error: 403,
  not_found_error: 404,
  request_too_large: 413,
  rate_limit_error: 429,
  api_error: 500,
  timeout_error: 504,
  overloaded_error: 529,
};

function issues(error: z.ZodError): string {
  return error.issues
    .slice(0, 3)
    .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
    .join('; ');
}

/** One line of a Message Batch's results → our result line. Never throws: bad lines become "unreadable". */
export function parseResultLine(text: string, lineNumber: number, toolName: string | null = null): BatchResultLine {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { kind: 'unreadable', customId: null, lineNumber, message: `Line ${lineNumber} of the batch results is not valid JSON.` };
  }
  const line = resultLineSchema.safeParse(json);
  if (!line.success) {
    const customId = typeof (json as { custom_id?: unknown })?.custom_id === 'string' ? (json as { custom_id: string }).custom_id : null;
    return { kind: 'unreadable', customId, lineNumber, message: `Line ${lineNumber} of the batch results has an unexpected shape: ${issues(line.error)}` };
  }
  const { custom_id: customId, result } = line.data;
  switch (result.type) {
    case 'succeeded': {
      const message = messageSchema.safeParse(result.message);
      if (!message.success) return { kind: 'unreadable', customId, lineNumber, message: `The answer to ${customId} is not a message: ${issues(message.error)}` };
      return { kind: 'succeeded', customId, requestId: message.data.id, lineNumber, ...toChatAnswer(message.data, toolName) };
    }
    case 'errored': {
      const { type, message } = result.error.error;
      return {
        kind: 'errored',
        customId,
        requestId: result.error.request_id ?? null,
        lineNumber,
        statusCode: STATUS_OF_ERROR[type] ?? null,
        code: type,
        message: message ?? `Anthropic reported ${type} with no message`,
        retryable: RETRYABLE_ERRORS.has(type),
      };
    }
    case 'canceled':
      return { kind: 'not_run', customId, lineNumber, code: 'batch_cancelled', message: 'This request was not run: the batch was canceled first.' };
    case 'expired':
      return { kind: 'not_run', customId, lineNumber, code: 'batch_expired', message: 'This request was not run: the batch expired (24 hours) first.' };
  }
}
