import { z } from 'zod';
import { getModelPrice, isKnownModel, type ModelPrice } from '../../providers/pricing.js';
import { invalidRequest, modelNotFound } from '../api-error.js';
import { checkStrictSchema } from './strict-schema.js';
import { promptTokens as countPromptTokens } from './tokens.js';

/**
 * Checks a chat completions request the way the API does, with its status codes, codes and (where known) exact
 * messages: unknown parameters, unknown models, reasoning-model parameter rules, JSON schemas (refused on models
 * older than Structured Outputs; strict ones checked), the context window. Used for real-time calls and for every
 * line of a batch.
 */

// Parameters the API accepts on /v1/chat/completions; anything else is "Unrecognized request argument".
const KNOWN_PARAMS = new Set([
  'model', 'messages', 'temperature', 'top_p', 'n', 'stream', 'stream_options', 'stop', 'max_tokens', 'max_completion_tokens',
  'presence_penalty', 'frequency_penalty', 'logit_bias', 'logprobs', 'top_logprobs', 'user', 'seed', 'response_format', 'tools',
  'tool_choice', 'parallel_tool_calls', 'metadata', 'store', 'reasoning_effort', 'service_tier', 'modalities', 'audio',
  'prediction', 'verbosity', 'prompt_cache_key', 'prompt_cache_retention', 'safety_identifier', 'web_search_options',
]);

const textPart = z.object({ type: z.literal('text'), text: z.string() });
const messageSchema = z.object({
  role: z.enum(['system', 'developer', 'user', 'assistant']),
  content: z.union([z.string(), z.array(textPart).min(1)]).nullable(),
  name: z.string().min(1).max(64).optional(),
});

const jsonSchemaFormat = z.object({
  type: z.literal('json_schema'),
  json_schema: z.object({
    name: z.string().regex(/^[a-zA-Z0-9_-]{1,64}$/, "must be 1–64 letters, digits, '_' or '-'"),
    description: z.string().optional(),
    schema: z.record(z.string(), z.unknown()).optional(),
    strict: z.boolean().nullish(),
  }),
});
const responseFormatSchema = z.union([z.object({ type: z.literal('text') }), z.object({ type: z.literal('json_object') }), jsonSchemaFormat]);

const requestSchema = z.object({
  model: z.string({ error: 'you must provide a model parameter' }).min(1, 'you must provide a model parameter'),
  messages: z.array(messageSchema).min(1, "'messages' must contain at least one message"),
  temperature: z.number().min(0).max(2).nullish(),
  max_tokens: z.number().int().min(1).nullish(),
  max_completion_tokens: z.number().int().min(1).nullish(),
  n: z.number().int().min(1).max(128).nullish(),
  stream: z.boolean().nullish(),
  response_format: responseFormatSchema.nullish(),
});

export type ChatRequest = z.infer<typeof requestSchema>;
export type ChatMessageIn = z.infer<typeof messageSchema>;

export interface ValidChatRequest {
  model: string;
  /** The dated snapshot the API reports back for this model id. */
  responseModel: string;
  reasoning: boolean;
  messages: ChatMessageIn[];
  promptTokens: number;
  /** The output limit the request set, if any. */
  maxCompletionTokens: number | null;
  responseFormat: z.infer<typeof responseFormatSchema> | null;
}

function messageText(m: ChatMessageIn): string {
  if (m.content === null) return '';
  return typeof m.content === 'string' ? m.content : m.content.map((p) => p.text).join('');
}

/** Returns the checked request, or throws the ApiError (see api-error.ts) the API would answer with. */
export function validateChatRequest(body: unknown): ValidChatRequest {
  const req = parseChatRequest(body);
  if (!isKnownModel(req.model, 'openai')) throw modelNotFound(req.model);
  if (req.stream) throw invalidRequest('The emulator does not stream responses: send stream=false.', 'stream', 'unsupported_parameter');
  if ((req.n ?? 1) !== 1) throw invalidRequest('The emulator answers with one choice only: send n=1.', 'n', 'unsupported_value');

  const price = getModelPrice(req.model, undefined, 'openai');
  if (price.reasoning) checkReasoningParameters(req);
  const format = req.response_format ?? null;
  if (format?.type === 'json_schema' && !price.structuredOutputs) {
    // The API's answer to a json_schema response format on a model older than Structured Outputs (the price file's
    // structured_outputs: false), as its users quote it (e.g. web-infra-dev/midscene#259, 2025-01); no code.
    throw invalidRequest(
      "Invalid parameter: 'response_format' of type 'json_schema' is not supported with this model. Learn more about supported models at the Structured Outputs guide: https://platform.openai.com/docs/guides/structured-outputs",
      'response_format',
    );
  }
  checkResponseFormat(req.messages, format);

  const messages = req.messages;
  // The emulator's own count (./tokens.ts), response format included, never the tool's estimate.
  const promptTokens = countPromptTokens(req.model, messages, format);
  const maxCompletionTokens = req.max_completion_tokens ?? req.max_tokens ?? null;
  checkContextWindow(price, promptTokens, maxCompletionTokens);
  return {
    model: req.model,
    responseModel: price.model === req.model ? (price.aliases[0] ?? req.model) : req.model,
    reasoning: price.reasoning,
    messages,
    promptTokens,
    maxCompletionTokens,
    responseFormat: format,
  };
}

/**
 * The prompt, and on a non-reasoning model the prompt plus the output limit asked for, must fit the model's
 * context window: a gpt-4 request of 300 prompt tokens and max_tokens 8,000 is refused. Both messages are the
 * API's as its users quote them for gpt-3.5-turbo (e.g. The-Vibe-Company/quivr#505, 2023); that other
 * non-reasoning models answer the same is assumed. What reasoning models answer to prompt + limit beyond their
 * window is not known here, so they are held to the prompt only.
 */
function checkContextWindow(price: ModelPrice, promptTokens: number, maxCompletionTokens: number | null): void {
  const window = price.contextWindow;
  if (window === null) return;
  if (!price.reasoning && maxCompletionTokens !== null && promptTokens + maxCompletionTokens > window) {
    throw invalidRequest(
      `This model's maximum context length is ${window} tokens. However, you requested ${promptTokens + maxCompletionTokens} tokens (${promptTokens} in the messages, ${maxCompletionTokens} in the completion). Please reduce the length of the messages or completion.`,
      'messages',
      'context_length_exceeded',
    );
  }
  if (promptTokens > window) {
    throw invalidRequest(
      `This model's maximum context length is ${window} tokens. However, your messages resulted in ${promptTokens} tokens. Please reduce the length of the messages.`,
      'messages',
      'context_length_exceeded',
    );
  }
}

/** A JSON object with only parameters the API knows, each of the right type; the first problem is reported. */
function parseChatRequest(body: unknown): ChatRequest {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw invalidRequest('The request body must be a JSON object.');
  for (const key of Object.keys(body)) {
    if (!KNOWN_PARAMS.has(key)) throw invalidRequest(`Unrecognized request argument supplied: ${key}`, key, 'unknown_parameter');
  }
  const parsed = requestSchema.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const param = issue?.path.join('.') || null;
    throw invalidRequest(`Invalid value for '${param ?? 'body'}': ${issue?.message ?? 'invalid'}`, param, 'invalid_value');
  }
  return parsed.data;
}

/** Reasoning models refuse max_tokens and any temperature but the default. */
function checkReasoningParameters(req: ChatRequest): void {
  if (req.max_tokens !== undefined && req.max_tokens !== null) {
    throw invalidRequest("Unsupported parameter: 'max_tokens' is not supported with this model. Use 'max_completion_tokens' instead.", 'max_tokens', 'unsupported_parameter');
  }
  if (req.temperature !== undefined && req.temperature !== null && req.temperature !== 1) {
    throw invalidRequest(
      `Unsupported value: 'temperature' does not support ${req.temperature} with this model. Only the default (1) value is supported.`,
      'temperature',
      'unsupported_value',
    );
  }
}

/** JSON mode needs the word "json" in the messages; a strict JSON schema must be one the API accepts. */
function checkResponseFormat(messages: ChatMessageIn[], format: ChatRequest['response_format'] | null): void {
  if (format?.type === 'json_object' && !messages.some((m) => /json/i.test(messageText(m)))) {
    throw invalidRequest("'messages' must contain the word 'json' in some form, to use 'response_format' of type 'json_object'.", 'messages');
  }
  if (format?.type === 'json_schema' && format.json_schema.strict) {
    const problem = checkStrictSchema(format.json_schema.schema ?? {});
    if (problem) {
      throw invalidRequest(`Invalid schema for response_format '${format.json_schema.name}': ${problem}`, 'response_format', 'invalid_json_schema');
    }
  }
}

export function textOf(m: ChatMessageIn): string {
  return messageText(m);
}
