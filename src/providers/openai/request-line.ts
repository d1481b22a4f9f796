import type { GradingRequest } from '../../grading/request.js';
import { isReasoningModel } from './models.js';

export const CHAT_COMPLETIONS_ENDPOINT = '/v1/chat/completions';

/** OpenAI custom_id: any string, unique per batch; ours are also limited to Anthropic's alphabet and length. */
export const CUSTOM_ID_PATTERN = /^[a-zA-Z0-9_-]{1,64}$/;

/** The chat completions request body for one grading request (same body in a batch line and a real-time call). */
export function chatCompletionBody(req: GradingRequest) {
  return {
    model: req.model,
    messages: req.messages,
    // max_completion_tokens works for every current model; reasoning models refuse max_tokens outright.
    max_completion_tokens: req.maxOutputTokens,
    // Reasoning models accept only the default temperature, so it is left out rather than sent and refused.
    ...(isReasoningModel(req.model) ? {} : { temperature: req.temperature }),
    // Left out for a model without Structured Outputs: OpenAI refuses a json_schema format for it, and its
    // request carries the schema in the system message instead (src/grading/answer-format.ts).
    ...(req.responseFormat ? { response_format: req.responseFormat } : {}),
  };
}

/** One line of an OpenAI batch input file: {custom_id, method, url, body}, without the trailing newline. */
export function buildOpenAIRequestLine(req: GradingRequest): string {
  if (!CUSTOM_ID_PATTERN.test(req.customId)) {
    throw new RangeError(`custom id "${req.customId}" must be 1–64 letters, digits, "_" or "-" (use customIdFor)`);
  }
  if (!Number.isInteger(req.maxOutputTokens) || req.maxOutputTokens < 1) {
    throw new RangeError(`maxOutputTokens must be a whole number ≥ 1 (got ${req.maxOutputTokens})`);
  }
  if (req.messages.length === 0) throw new RangeError('a grading request needs at least one message');
  // JSON.stringify escapes newlines inside strings, so the result is always exactly one line.
  return JSON.stringify({ custom_id: req.customId, method: 'POST', url: CHAT_COMPLETIONS_ENDPOINT, body: chatCompletionBody(req) });
}
