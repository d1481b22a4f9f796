import { createRequire } from 'node:module';

/**
 * The emulator's own token accounting: what it reports as `usage`. It is written from OpenAI's documentation, not
 * from the tool's estimator (src/providers/tokens.ts), and must never import it: tests compare the tool's estimate
 * with the usage the emulator reports, which only means something while the two are separate implementations.
 * Only the byte-pair encoding itself is shared (gpt-tokenizer, the same token ids as OpenAI's tiktoken).
 *
 * Documented (OpenAI cookbook, "How to count tokens with tiktoken", examples/How_to_count_tokens_with_tiktoken.ipynb):
 * - encodings: o200k_base for gpt-4o and gpt-4o-mini; cl100k_base for gpt-4-turbo, gpt-4 and gpt-3.5-turbo;
 * - a chat request costs, per message, 3 tokens plus the tokens of each of its values (role, content, name), 1 more
 *   when it has a name, and 3 for priming the reply (`<|start|>assistant<|message|>`). The cookbook's example
 *   conversation comes to 124 prompt tokens on gpt-4o / gpt-4o-mini and 129 on gpt-4 / gpt-3.5-turbo, both as
 *   counted by the API (test/emulator/tokens.test.ts pins them).
 * - OpenAI's "Counting tokens" guide: "Tools and schemas add tokens that are hard to count locally".
 *
 * Assumed (nothing OpenAI publishes says otherwise, and nothing says this either):
 * - gpt-4.1, gpt-4.5, gpt-5.x and the o-series use o200k_base and the same message framing as gpt-4o;
 * - text parts of one message are read as one text, joined without a separator;
 * - a strict `json_schema` response format adds the tokens of its schema written as compact JSON without the
 *   keywords `required`, `additionalProperties` and `$schema`, plus 9 tokens of framing. That is a measurement
 *   reported against the live API (openai/openai-cookbook issue #2140, 2025-09, Responses API), not a documented
 *   rule; the cookbook itself has no section on structured outputs. `json_object` and `text` add nothing.
 * - text that looks like a special token ("<|endoftext|>") is counted as plain text, as user content is.
 */

export type EmulatorEncoding = 'o200k_base' | 'cl100k_base';

/** Tokens framing each message (`<|start|>`, the separator after the role, `<|end|>`). */
export const MESSAGE_FRAMING_TOKENS = 3;
/** The extra token a message's `name` costs on top of its own tokens. */
export const NAME_TOKENS = 1;
/** Every reply is primed with `<|start|>assistant<|message|>`. */
export const REPLY_PRIMING_TOKENS = 3;
/** Framing around a structured-output schema (assumed; see above). */
export const SCHEMA_FRAMING_TOKENS = 9;
/** Schema keywords the schema's token count leaves out (assumed; see above). */
const UNCOUNTED_SCHEMA_KEYWORDS = new Set(['required', 'additionalProperties', '$schema']);
/** Keys whose value maps names to schemas: the names are data, never keywords. */
const SCHEMA_MAPS = new Set(['properties', 'patternProperties', '$defs', 'definitions']);
/** Keys whose value is plain data, not a schema. */
const DATA_KEYWORDS = new Set(['enum', 'const', 'default', 'examples']);

// Model id prefixes, most specific first. A fine-tuned model ("ft:<base>:org::id") counts like its base.
const FAMILIES: ReadonlyArray<readonly [prefix: string, encoding: EmulatorEncoding]> = [
  ['gpt-4o', 'o200k_base'],
  ['chatgpt-4o', 'o200k_base'],
  ['gpt-4.1', 'o200k_base'],
  ['gpt-4.5', 'o200k_base'],
  ['gpt-5', 'o200k_base'],
  ['o1', 'o200k_base'],
  ['o3', 'o200k_base'],
  ['o4', 'o200k_base'],
  ['gpt-4', 'cl100k_base'],
  ['gpt-3.5-turbo', 'cl100k_base'],
];

interface Bpe {
  encode(text: string, options: { disallowedSpecial: Set<string> }): number[];
  decode(tokens: number[]): string;
}

// gpt-tokenizer throws on special-token text unless told it is allowed to be plain text.
const AS_PLAIN_TEXT = { disallowedSpecial: new Set<string>() };

const requireCjs = createRequire(import.meta.url);
const tables = new Map<EmulatorEncoding, Bpe>();

/** Loaded on first use: each rank table costs tens of MB, and an emulator serving gpt-4o never needs cl100k. */
function bpe(encoding: EmulatorEncoding): Bpe {
  let table = tables.get(encoding);
  if (!table) {
    table = requireCjs(`gpt-tokenizer/cjs/encoding/${encoding}`) as Bpe;
    tables.set(encoding, table);
  }
  return table;
}

/** The encoding a model id reads text with; throws for a model of unknown family. */
export function encodingOf(model: string): EmulatorEncoding {
  const id = model.startsWith('ft:') ? model.slice('ft:'.length) : model;
  for (const [prefix, encoding] of FAMILIES) {
    // "gpt-4" must not claim "gpt-4o" or "gpt-4.1": a prefix ends the id or is followed by "-" or ".".
    if (id === prefix || id.startsWith(`${prefix}-`) || id.startsWith(`${prefix}.`)) return encoding;
  }
  throw new Error(`The emulator knows no tokenizer for model "${model}".`);
}

/** Tokens of a text in an encoding named outright (the Anthropic side's stand-in for Claude's unpublished tokenizer). */
export function encodingTokens(encoding: EmulatorEncoding, text: string): number {
  return text === '' ? 0 : bpe(encoding).encode(text, AS_PLAIN_TEXT).length;
}

/** The token ids of a text, as the model reads it. */
export function encodeText(model: string, text: string): number[] {
  return text === '' ? [] : bpe(encodingOf(model)).encode(text, AS_PLAIN_TEXT);
}

/** How many tokens a text is (no chat framing). */
export function textTokens(model: string, text: string): number {
  return encodeText(model, text).length;
}

/** The first `limit` tokens of a text: what a model stopped by its token limit has written. */
export function cutToTokens(model: string, text: string, limit: number): string {
  const ids = encodeText(model, text);
  if (ids.length <= limit) return text;
  return bpe(encodingOf(model)).decode(ids.slice(0, Math.max(0, limit)));
}

export interface MessageForCount {
  role: string;
  content: string | null | ReadonlyArray<{ text?: string }>;
  name?: string;
}

function plainText(content: MessageForCount['content']): string {
  if (content === null) return '';
  if (typeof content === 'string') return content;
  let text = '';
  for (const part of content) text += part.text ?? '';
  return text;
}

/** Prompt tokens of a message list: the cookbook's count (see the top of this file). */
export function messageListTokens(model: string, messages: readonly MessageForCount[]): number {
  let tokens = REPLY_PRIMING_TOKENS;
  for (const message of messages) {
    tokens += MESSAGE_FRAMING_TOKENS + textTokens(model, message.role) + textTokens(model, plainText(message.content));
    if (message.name !== undefined && message.name !== '') tokens += textTokens(model, message.name) + NAME_TOKENS;
  }
  return tokens;
}

/** The schema without the keywords the count leaves out; property names and literal values stay as they are. */
function withoutUncountedKeywords(node: unknown, isSchemaMap = false): unknown {
  if (Array.isArray(node)) return node.map((item) => withoutUncountedKeywords(item));
  if (typeof node !== 'object' || node === null) return node;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(node)) {
    if (isSchemaMap) out[key] = withoutUncountedKeywords(value);
    else if (UNCOUNTED_SCHEMA_KEYWORDS.has(key)) continue;
    else if (DATA_KEYWORDS.has(key)) out[key] = value;
    else out[key] = withoutUncountedKeywords(value, SCHEMA_MAPS.has(key));
  }
  return out;
}

export type ResponseFormatForCount =
  | { type: 'text' }
  | { type: 'json_object' }
  | { type: 'json_schema'; json_schema: { name: string; schema?: Record<string, unknown> | undefined; strict?: boolean | null | undefined } }
  | null
  | undefined;

/** Prompt tokens a response format adds (assumed; see the top of this file). */
export function responseFormatTokens(model: string, format: ResponseFormatForCount): number {
  if (!format || format.type !== 'json_schema') return 0;
  return textTokens(model, JSON.stringify(withoutUncountedKeywords(format.json_schema.schema ?? {}))) + SCHEMA_FRAMING_TOKENS;
}

/** What the emulator bills as `prompt_tokens` for a chat completion request. */
export function promptTokens(model: string, messages: readonly MessageForCount[], format: ResponseFormatForCount): number {
  return messageListTokens(model, messages) + responseFormatTokens(model, format);
}
