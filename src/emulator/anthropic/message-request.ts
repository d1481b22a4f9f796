import { z } from 'zod';
import { getModelPrice, isKnownModel } from '../../providers/pricing.js';
import { invalid, notFound } from './api-error.js';

/**
 * Checks Messages parameters the way the API does (POST /v1/messages, and each request of a Message Batch), with
 * its statuses and pydantic-style messages ("max_tokens: Field required"): unknown parameters, unknown models
 * (those of data/prices/anthropic.yml are served), required fields, temperature from 0 to 1, at most four
 * cache_control breakpoints, tools and a tool_choice that names one of them, strict tool schemas (every object
 * closed, none of the keywords strict mode does not take), the context window.
 */

const KNOWN_PARAMS = new Set([
  'model', 'messages', 'max_tokens', 'system', 'temperature', 'top_p', 'top_k', 'stop_sequences', 'stream', 'metadata',
  'tools', 'tool_choice', 'thinking', 'service_tier', 'container', 'mcp_servers', 'context_management', 'output_config',
]);

const cacheControl = z.strictObject({ type: z.literal('ephemeral'), ttl: z.enum(['5m', '1h']).optional() });
const textBlock = z.strictObject({ type: z.literal('text'), text: z.string().min(1, 'text content blocks must be non-empty'), cache_control: cacheControl.nullish() });
const message = z.strictObject({ role: z.enum(['user', 'assistant']), content: z.union([z.string().min(1), z.array(textBlock).min(1)]) });
const tool = z.strictObject({
  name: z.string().regex(/^[a-zA-Z0-9_-]{1,128}$/, "String should match pattern '^[a-zA-Z0-9_-]{1,128}$'"),
  description: z.string().optional(),
  input_schema: z.looseObject({ type: z.literal('object') }),
  strict: z.boolean().optional(),
  cache_control: cacheControl.nullish(),
  type: z.literal('custom').nullish(),
});
const toolChoice = z.union([
  z.strictObject({ type: z.enum(['auto', 'any']), disable_parallel_tool_use: z.boolean().optional() }),
  z.strictObject({ type: z.literal('tool'), name: z.string(), disable_parallel_tool_use: z.boolean().optional() }),
  z.strictObject({ type: z.literal('none') }),
]);

const paramsSchema = z.object({
  model: z.string({ error: 'Field required' }).min(1),
  max_tokens: z.number({ error: 'Field required' }).int().min(1, 'Input should be greater than or equal to 1'),
  messages: z.array(message, { error: 'Field required' }).min(1, 'at least one message is required'),
  system: z.union([z.string(), z.array(textBlock)]).optional(),
  temperature: z.number().min(0, 'Input should be greater than or equal to 0').max(1, 'Input should be less than or equal to 1').optional(),
  stream: z.boolean().optional(),
  tools: z.array(tool).optional(),
  tool_choice: toolChoice.optional(),
  metadata: z.object({ user_id: z.string().nullish() }).optional(),
  stop_sequences: z.array(z.string()).optional(),
  top_p: z.number().min(0).max(1).optional(),
  top_k: z.number().int().min(0).optional(),
});
export type MessageParams = z.infer<typeof paramsSchema>;

export type CacheTtl = '5m' | '1h';

/** A piece of the prompt in the order Anthropic reads it (tools → system → messages), with its breakpoint. */
export interface PromptSegment {
  text: string;
  cache: CacheTtl | null;
}

export interface ValidMessageRequest {
  params: MessageParams;
  /** Every system block's text, in order. */
  systemText: string;
  /** The user turns' texts, in order (assistant turns are not used by the grader). */
  userTexts: string[];
  /** The forced tool, when tool_choice names one (the answer's schema). */
  answerTool: { name: string; schema: Record<string, unknown> } | null;
  segments: PromptSegment[];
  contextWindow: number | null;
}

const blocksOf = (content: string | Array<{ text: string; cache_control?: { ttl?: CacheTtl } | null }>) =>
  typeof content === 'string' ? [{ text: content, cache_control: null }] : content;

// Keywords strict tool schemas do not take (Anthropic, "Strict tool use": numeric and length constraints).
const NOT_IN_STRICT = new Set(['minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum', 'multipleOf', 'minLength', 'maxLength', 'maxItems', 'minProperties', 'maxProperties']);
const SCHEMA_MAPS = new Set(['properties', '$defs', 'definitions']);
const DATA_KEYWORDS = new Set(['enum', 'const', 'default', 'examples', 'description', 'title', 'required']);

/** The first reason a strict tool's schema is refused, or null. */
export function strictToolProblem(node: unknown, path: string[] = []): string | null {
  if (Array.isArray(node)) {
    for (const [i, n] of node.entries()) {
      const p = strictToolProblem(n, [...path, String(i)]);
      if (p) return p;
    }
    return null;
  }
  if (typeof node !== 'object' || node === null) return null;
  const obj = node as Record<string, unknown>;
  const at = path.length ? ` (at ${path.join('.')})` : '';
  if ((obj.type === 'object' || 'properties' in obj) && obj.additionalProperties !== false) return `For 'object' type, 'additionalProperties' must be explicitly set to false${at}`;
  for (const [key, value] of Object.entries(obj)) {
    if (NOT_IN_STRICT.has(key)) return `Schema feature not supported with strict mode: '${key}'${at}`;
    if (key === 'minItems' && typeof value === 'number' && value > 1) return `Schema feature not supported with strict mode: 'minItems' above 1${at}`;
    if (DATA_KEYWORDS.has(key)) continue;
    if (SCHEMA_MAPS.has(key) && typeof value === 'object' && value !== null) {
      for (const [name, child] of Object.entries(value)) {
        const p = strictToolProblem(child, [...path, key, name]);
        if (p) return p;
      }
    } else {
      const p = strictToolProblem(value, [...path, key]);
      if (p) return p;
    }
  }
  return null;
}

function parseParams(body: unknown): MessageParams {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw invalid('The request body must be a JSON object.');
  for (const key of Object.keys(body)) {
    if (!KNOWN_PARAMS.has(key)) throw invalid(`${key}: Extra inputs are not permitted`);
  }
  const parsed = paramsSchema.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue?.path.join('.') || 'body';
    const missing = issue?.code === 'invalid_type' && issue.input === undefined;
    throw invalid(`${where}: ${missing ? 'Field required' : (issue?.message ?? 'invalid')}`);
  }
  return parsed.data;
}

/** The checked request, or throws the AnthropicApiError the API would answer with. `inBatch`: a batch's request. */
export function validateMessageRequest(body: unknown, inBatch = false): ValidMessageRequest {
  const params = parseParams(body);
  if (!isKnownModel(params.model, 'anthropic')) throw notFound(`model: ${params.model}`);
  if (params.stream && inBatch) throw invalid('stream: streaming is not supported in the Message Batches API');
  if (params.stream) throw invalid('stream: the emulator does not stream responses: send stream=false.');

  const tools = params.tools ?? [];
  for (const [i, t] of tools.entries()) {
    const problem = t.strict ? strictToolProblem(t.input_schema) : null;
    if (problem) throw invalid(`tools.${i}.custom.input_schema: ${problem}`);
  }
  let answerTool: ValidMessageRequest['answerTool'] = null;
  const choice = params.tool_choice;
  if (choice && choice.type !== 'none' && !tools.length) throw invalid('tool_choice: may only be specified while providing tools.');
  if (choice?.type === 'tool') {
    const named = tools.find((t) => t.name === choice.name);
    if (!named) throw invalid(`tool_choice.name: Tool '${choice.name}' not found in the provided tools`);
    answerTool = { name: named.name, schema: named.input_schema };
  }

  const segments: PromptSegment[] = [];
  for (const t of tools) segments.push({ text: JSON.stringify({ name: t.name, description: t.description ?? '', input_schema: t.input_schema }), cache: t.cache_control ? (t.cache_control.ttl ?? '5m') : null });
  const system = params.system === undefined ? [] : blocksOf(params.system);
  for (const b of system) segments.push({ text: b.text, cache: b.cache_control ? (b.cache_control.ttl ?? '5m') : null });
  const userTexts: string[] = [];
  for (const m of params.messages) {
    for (const b of blocksOf(m.content)) {
      segments.push({ text: b.text, cache: b.cache_control ? (b.cache_control.ttl ?? '5m') : null });
      if (m.role === 'user') userTexts.push(b.text);
    }
  }
  const breakpoints = segments.filter((s) => s.cache).length;
  if (breakpoints > 4) throw invalid(`A maximum of 4 blocks with cache_control may be provided. Found ${breakpoints}.`);
  // A 1-hour entry must come before any 5-minute one (prompt-caching docs, "Mixing different TTLs").
  const ttls = segments.flatMap((s) => (s.cache ? [s.cache] : []));
  if (ttls.some((t, i) => t === '1h' && ttls.slice(0, i).includes('5m'))) throw invalid('cache_control: a ttl of 1h must not come after a ttl of 5m.');

  return {
    params,
    systemText: system.map((b) => b.text).join('\n'),
    userTexts,
    answerTool,
    segments,
    contextWindow: getModelPrice(params.model, undefined, 'anthropic').contextWindow,
  };
}
