import { createRequire } from 'node:module';

/**
 * Exact prompt token counts for OpenAI chat models with gpt-tokenizer (same tokens as tiktoken, and the fastest
 * of the three measured here), plus the output-token estimate used before a request has run.
 */

export type EncodingName = 'o200k_base' | 'cl100k_base';

/** A chat message as sent to the API: text content only (we send no images or tool calls). */
export interface CountableMessage {
  role: string;
  content: string | null | ReadonlyArray<{ type: string; text?: string }>;
  name?: string;
}

interface Encoding {
  countTokens(text: string, options?: { disallowedSpecial?: Set<string> }): number;
  encode(text: string, options?: { disallowedSpecial?: Set<string> }): number[];
  decode(tokens: Iterable<number>): string;
}

// Per the OpenAI cookbook (How_to_count_tokens_with_tiktoken): every message costs 3 tokens of framing
// (<|start|>role ... <|end|>), a `name` costs 1 more, and every reply is primed with 3 (<|start|>assistant<|message|>).
export const TOKENS_PER_MESSAGE = 3;
export const TOKENS_PER_NAME = 1;
export const REPLY_PRIMING_TOKENS = 3;

// Student text may contain strings such as "<|endoftext|>". The API treats them as plain text, never as special
// tokens, so we count them the same way (gpt-tokenizer would otherwise throw on them).
const PLAIN_TEXT = { disallowedSpecial: new Set<string>() };

const require = createRequire(import.meta.url);
const loaded = new Map<EncodingName, Encoding>();

/**
 * The encoding, loaded on first use and kept: each rank table takes ~100–250 ms and tens of MB to load, so a
 * process that never counts cl100k tokens never pays for it. require() keeps counting synchronous.
 */
function encoding(name: EncodingName): Encoding {
  let enc = loaded.get(name);
  if (!enc) {
    enc = require(`gpt-tokenizer/cjs/encoding/${name}`) as Encoding;
    loaded.set(name, enc);
  }
  return enc;
}

/**
 * Which encoding a model uses: o200k_base for GPT-4o, 4.1, 4.5, 5 and the o-series; cl100k_base for GPT-4 and 3.5.
 * Claude's tokenizer is not published (Anthropic counts with POST /v1/messages/count_tokens, one call per request):
 * Claude models are counted with o200k_base, an approximation. The estimate only reserves budget; each result's
 * usage is exact, and calibration.ts corrects later estimates from it.
 */
export function encodingForModel(model: string): EncodingName {
  // Fine-tuned models ("ft:gpt-4o-mini-2024-07-18:org::id") tokenize like their base model.
  const base = model.startsWith('ft:') ? model.slice(3) : model;
  if (/^(gpt-4o|chatgpt-4o|gpt-4\.1|gpt-4\.5|gpt-5|gpt-oss|o[1-9](-|$)|claude-)/.test(base)) return 'o200k_base';
  if (/^(gpt-4|gpt-3\.5|text-embedding-(ada-002|3-))/.test(base)) return 'cl100k_base';
  throw new Error(`No tokenizer is known for model "${model}": cannot count its tokens exactly.`);
}

function contentText(content: CountableMessage['content']): string {
  if (content === null) return '';
  if (typeof content === 'string') return content;
  return content.map((part) => part.text ?? '').join('');
}

/** Tokens of plain text in the model's encoding (no chat framing). */
export function countTextTokens(model: string, text: string): number {
  if (text === '') return 0;
  return encoding(encodingForModel(model)).countTokens(text, PLAIN_TEXT);
}

/**
 * Prompt tokens of a chat completion request, as OpenAI bills them: content, role and name tokens plus the chat
 * framing above. Equals gpt-tokenizer's own chat count for the same messages.
 */
export function countChatTokens(model: string, messages: readonly CountableMessage[]): number {
  const enc = encoding(encodingForModel(model));
  let total = REPLY_PRIMING_TOKENS;
  for (const m of messages) {
    total += TOKENS_PER_MESSAGE + enc.countTokens(m.role, PLAIN_TEXT);
    const text = contentText(m.content);
    if (text) total += enc.countTokens(text, PLAIN_TEXT);
    if (m.name) total += enc.countTokens(m.name, PLAIN_TEXT) + TOKENS_PER_NAME;
  }
  return total;
}

/**
 * Prompt tokens a strict `json_schema` response format adds. OpenAI bills them but does not say how it counts
 * them; the one public measurement (openai/openai-cookbook issue #2140, 2025-09) is the schema written as compact
 * JSON without `required`, `additionalProperties` and `$schema`, plus 9 tokens of framing. A grading schema is a
 * few hundred tokens: more than half of a short essay's prompt, so an estimate without them is far too low.
 */
export function countSchemaTokens(model: string, schema: Record<string, unknown>): number {
  const enc = encoding(encodingForModel(model));
  return enc.countTokens(JSON.stringify(schemaAsCounted(schema)), PLAIN_TEXT) + 9;
}

const NOT_COUNTED = new Set(['required', 'additionalProperties', '$schema']);
/** Keys whose value maps names to schemas (the names are data) or is plain data. */
const NAME_MAPS = new Set(['properties', 'patternProperties', '$defs', 'definitions']);
const DATA = new Set(['enum', 'const', 'default', 'examples']);

function schemaAsCounted(node: unknown, names = false): unknown {
  if (Array.isArray(node)) return node.map((n) => schemaAsCounted(n));
  if (typeof node !== 'object' || node === null) return node;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(node)) {
    if (names) out[key] = schemaAsCounted(value);
    else if (DATA.has(key)) out[key] = value;
    else if (!NOT_COUNTED.has(key)) out[key] = schemaAsCounted(value, NAME_MAPS.has(key));
  }
  return out;
}

/**
 * The system prompt Anthropic adds when tools are sent, billed as input: 313 tokens for Claude 4 models with
 * `tool_choice` any or tool (Anthropic's tool-use docs, "Pricing"), as the answer tool is forced.
 */
export const ANTHROPIC_FORCED_TOOL_TOKENS = 313;

/**
 * Every prompt token of a request: its messages, and its response format's schema when it has one (for a Claude
 * model the schema travels as a forced tool, which adds the tool-use system prompt).
 */
export function countRequestTokens(model: string, messages: readonly CountableMessage[], responseFormat?: { type: string; json_schema?: { schema?: Record<string, unknown> } }): number {
  const schema = responseFormat?.type === 'json_schema' ? responseFormat.json_schema?.schema : undefined;
  const toolPrompt = schema && model.startsWith('claude-') ? ANTHROPIC_FORCED_TOOL_TOKENS : 0;
  return countChatTokens(model, messages) + (schema ? countSchemaTokens(model, schema) + toolPrompt : 0);
}

/** The first `maxTokens` tokens of a text (what a model cut off by max_tokens has written). */
export function truncateToTokens(model: string, text: string, maxTokens: number): string {
  const enc = encoding(encodingForModel(model));
  const tokens = enc.encode(text, PLAIN_TEXT);
  return tokens.length <= maxTokens ? text : enc.decode(tokens.slice(0, Math.max(0, maxTokens)));
}

/**
 * With no history and no rubric to go by, we assume an answer uses this share of max_tokens (erring high keeps
 * budget reservations safe; the actual cost replaces the estimate when results come in).
 */
export const DEFAULT_OUTPUT_FRACTION = 0.6;

/**
 * With no history, the grading answer's shape (src/grading/result.schema.ts) says roughly how long it is: a few
 * strengths and improvements, a paragraph of comments, a few lines of reasoning and the JSON around them (about
 * 300 tokens), and per criterion its key, score and a two-or-three-sentence justification (about 55). Fixed from
 * what the fields ask for, not fitted to any model; a prompt version's own results replace it as they arrive.
 */
export const ANSWER_BASE_TOKENS = 300;
export const ANSWER_TOKENS_PER_CRITERION = 55;

/** What we expect before any result: the answer's shape for this many rubric criteria. */
export function answerShapeTokens(criteria: number): number {
  return ANSWER_BASE_TOKENS + ANSWER_TOKENS_PER_CRITERION * Math.max(0, criteria);
}

/**
 * Output tokens to expect from one request, capped at max tokens: the observed mean of earlier answers for the
 * same prompt version when there is one, else the answer's shape for its rubric (`criteria`), else
 * DEFAULT_OUTPUT_FRACTION of max tokens. Always a whole number ≥ 1.
 */
export function estimateOutputTokens(maxOutputTokens: number, observedMean?: number | null, criteria?: number): number {
  if (!Number.isFinite(maxOutputTokens) || maxOutputTokens < 1) {
    throw new RangeError(`maxOutputTokens must be at least 1 (got ${maxOutputTokens})`);
  }
  const known = (v: number | null | undefined): v is number => v !== undefined && v !== null && Number.isFinite(v) && v > 0;
  const guess = known(observedMean) ? observedMean : known(criteria) ? answerShapeTokens(criteria) : maxOutputTokens * DEFAULT_OUTPUT_FRACTION;
  return Math.max(1, Math.ceil(Math.min(guess, maxOutputTokens)));
}
