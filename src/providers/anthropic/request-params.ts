import type { GradingRequest } from '../../grading/request.js';
import { SUBMISSION_OPEN } from '../../grading/messages.js';

/**
 * One grading request as Anthropic Messages parameters (the `params` of a Message Batches request, or the body of
 * a real-time POST /v1/messages).
 *
 * Structured output: the answer's JSON schema is the input schema of one tool, `strict`, and the model is made to
 * call it (`tool_choice: {type: "tool"}`): the tool call's `input` is the answer. Anthropic's strict mode does not
 * take numeric or length bounds (minimum, maximum, minLength, …: a 400), so they are moved into the property's
 * description; the answer is checked against the full schema when it comes back (grading/evaluate.ts), as every
 * provider's is.
 *
 * Prompt caching: Anthropic caches a prefix up to a block marked `cache_control`, in the order tools → system →
 * messages. The tool (the schema) and the system message are the same for every submission of a prompt version, so
 * the last system block carries the breakpoint; when the user turn has more than one block, everything but the
 * last (the submission) is static too and gets a second breakpoint. Batches use the 1-hour cache, because a batch
 * may take hours and a 5-minute entry would expire between its requests (Anthropic's batch-processing guide);
 * real-time calls the 5-minute one (cheaper to write).
 */

export type CacheTtl = '5m' | '1h';

/** Anthropic's custom_id rule (Message Batches). */
export const ANTHROPIC_CUSTOM_ID = /^[a-zA-Z0-9_-]{1,64}$/;
/** Tool names: ^[a-zA-Z0-9_-]{1,128}$ (Messages API, tools[].name). */
const TOOL_NAME = /^[a-zA-Z0-9_-]{1,128}$/;

export const ANSWER_TOOL_DESCRIPTION = 'Record the assessment of the submission. Call this exactly once, with every field of the schema.';

interface TextBlock {
  type: 'text';
  text: string;
  cache_control?: { type: 'ephemeral'; ttl: CacheTtl };
}

export interface AnthropicMessageParams {
  model: string;
  max_tokens: number;
  temperature: number;
  system?: TextBlock[];
  messages: Array<{ role: 'user' | 'assistant'; content: TextBlock[] }>;
  tools?: Array<{ name: string; description: string; input_schema: Record<string, unknown>; strict: true }>;
  tool_choice?: { type: 'tool'; name: string; disable_parallel_tool_use: true };
}

// Keywords Anthropic's strict tool schemas refuse, and how each reads in words.
const BOUNDS: ReadonlyArray<readonly [keyword: string, words: string]> = [
  ['minimum', 'at least'],
  ['exclusiveMinimum', 'more than'],
  ['maximum', 'at most'],
  ['exclusiveMaximum', 'less than'],
  ['multipleOf', 'a multiple of'],
  ['minLength', 'at least this many characters:'],
  ['maxLength', 'at most this many characters:'],
  ['maxItems', 'at most this many items:'],
];
/** Keys whose value maps names to schemas (names are data, never keywords). */
const SCHEMA_MAPS = new Set(['properties', '$defs', 'definitions']);
const DATA_KEYWORDS = new Set(['enum', 'const', 'default', 'examples']);

/**
 * The schema as a strict Anthropic tool takes it: the bounds above removed and said in the description instead
 * (unless the description already names the bound's number), minItems above 1 likewise. Everything else is kept.
 */
export function strictToolSchema(node: unknown, isSchemaMap = false): unknown {
  if (Array.isArray(node)) return node.map((n) => strictToolSchema(n));
  if (typeof node !== 'object' || node === null) return node;
  const out: Record<string, unknown> = {};
  const said: string[] = [];
  for (const [key, value] of Object.entries(node)) {
    if (isSchemaMap) {
      out[key] = strictToolSchema(value);
      continue;
    }
    const bound = BOUNDS.find(([k]) => k === key);
    if (bound && typeof value === 'number') said.push(`${bound[1]} ${value}`);
    else if (key === 'minItems' && typeof value === 'number' && value > 1) said.push(`at least this many items: ${value}`);
    else if (DATA_KEYWORDS.has(key)) out[key] = value;
    else out[key] = strictToolSchema(value, SCHEMA_MAPS.has(key));
  }
  if (said.length && !isSchemaMap) {
    const description = typeof out.description === 'string' ? out.description : '';
    const missing = said.filter((s) => !mentions(description, s.split(' ').at(-1)!));
    if (missing.length) out.description = `${description}${description ? ' ' : ''}(${missing.join('; ')})`.trim();
  }
  return out;
}

/** Whether a text names a number as a word of its own ("from 0 to 10" names 10 and 0, not 1). */
function mentions(text: string, number: string): boolean {
  return new RegExp(`(^|[^\\d.])${number.replace('.', '\\.')}(?![\\d.]*\\d)`).test(text);
}

function checkRequest(req: GradingRequest): void {
  if (!ANTHROPIC_CUSTOM_ID.test(req.customId)) {
    throw new RangeError(`custom id "${req.customId}" must be 1–64 letters, digits, "_" or "-" (use customIdFor)`);
  }
  if (!Number.isInteger(req.maxOutputTokens) || req.maxOutputTokens < 1) {
    throw new RangeError(`maxOutputTokens must be a whole number ≥ 1 (got ${req.maxOutputTokens})`);
  }
  // Anthropic's temperature runs from 0 to 1 (OpenAI's to 2): the prompt editor holds Claude prompts to it.
  if (!(req.temperature >= 0 && req.temperature <= 1)) throw new RangeError(`temperature must be from 0 to 1 for Anthropic models (got ${req.temperature})`);
  if (!req.messages.some((m) => m.role !== 'system')) throw new RangeError('a grading request needs at least one user message');
  if (req.responseFormat && !TOOL_NAME.test(req.responseFormat.json_schema.name)) {
    throw new RangeError(`the answer's schema name "${req.responseFormat.json_schema.name}" is not a valid tool name`);
  }
}

/**
 * One user message as the blocks the cache sees: the template's text before the submission (task, criteria:
 * the same for every submission of a prompt version), then the submission with whatever follows it. The text is
 * unchanged, only cut; a source file's "Language:" line goes with the submission (it differs between files).
 */
export function splitAtSubmission(text: string): string[] {
  const at = text.indexOf(SUBMISSION_OPEN);
  if (at <= 0) return [text];
  const language = /Language: [^\n]*\n$/.exec(text.slice(0, at));
  const cut = language ? at - language[0].length : at;
  return cut > 0 && text.slice(0, cut).trim() ? [text.slice(0, cut), text.slice(cut)] : [text];
}

/** The Messages parameters for one grading request. Throws RangeError for a request no API call could carry. */
export function anthropicMessageParams(req: GradingRequest, cacheTtl: CacheTtl): AnthropicMessageParams {
  checkRequest(req);
  const cache = { type: 'ephemeral' as const, ttl: cacheTtl };
  const system: TextBlock[] = req.messages.filter((m) => m.role === 'system' && m.content !== '').map((m) => ({ type: 'text', text: m.content }));
  const last = system.at(-1);
  if (last) last.cache_control = cache;
  // Anthropic takes alternating turns: consecutive user messages become blocks of one turn.
  const users = req.messages.filter((m) => m.role !== 'system');
  const blocks: TextBlock[] = (users.length === 1 ? splitAtSubmission(users[0]!.content) : users.map((m) => m.content)).map((text) => ({ type: 'text', text }));
  const staticEnd = blocks.at(-2);
  if (staticEnd) staticEnd.cache_control = cache;
  const params: AnthropicMessageParams = {
    model: req.model,
    max_tokens: req.maxOutputTokens,
    temperature: req.temperature,
    ...(system.length ? { system } : {}),
    messages: [{ role: 'user', content: blocks }],
  };
  if (req.responseFormat) {
    const { name, schema } = req.responseFormat.json_schema;
    params.tools = [{ name, description: ANSWER_TOOL_DESCRIPTION, input_schema: strictToolSchema(schema) as Record<string, unknown>, strict: true }];
    params.tool_choice = { type: 'tool', name, disable_parallel_tool_use: true };
  }
  return params;
}

/** One request of a Message Batches create body, as one line of JSON: {custom_id, params}. */
export function buildAnthropicRequestLine(req: GradingRequest): string {
  return JSON.stringify({ custom_id: req.customId, params: anthropicMessageParams(req, '1h') });
}
