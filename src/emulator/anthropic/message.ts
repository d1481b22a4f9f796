import type { ChatMessageIn, ValidChatRequest } from '../chat/request.js';
import { encodingTokens } from '../chat/tokens.js';
import type { OutputFaults } from '../faults.js';
import { hexHash, newId, unitHash } from '../hash.js';
import { intendedAnswer, requestKey, type IntendedAnswer } from '../grader/answer.js';
import { invalid } from './api-error.js';
import type { CacheTtl, ValidMessageRequest } from './message-request.js';

/**
 * A Message for a checked request: the same simulated grader as the OpenAI side, answering through the forced
 * tool when there is one, then the injected output faults and max_tokens, with usage counted the way Anthropic
 * bills it — input after the last cache breakpoint, cache reads and cache writes (by TTL) apart.
 *
 * Counting is the emulator's own and an assumption: Claude's tokenizer is not published, so text is counted with
 * o200k_base; each message turn adds 4 tokens of framing; a forced tool (tool_choice any or tool) adds Anthropic's
 * documented tool-use system prompt of 313 tokens, an `auto` one 346 (tool-use docs, "Pricing", Claude 4 models).
 *
 * Prompt caching is stateful, like Anthropic's: a prefix up to a cache_control breakpoint is written on its first
 * use (if it reaches the model's minimum length) and read while its entry lives (5 minutes or 1 hour, renewed by
 * each hit). The longest prefix found is read; longer breakpoints after it are written. A batch's requests run one
 * after another here, so all but the first hit; Anthropic's batches hit on a best-effort share (30–98 %).
 */

export const REFUSAL_TEXT = "I'm sorry, but I can't help with grading this submission.";
const TURN_FRAMING_TOKENS = 4;
const FORCED_TOOL_PROMPT_TOKENS = 313;
const AUTO_TOOL_PROMPT_TOKENS = 346;
const TTL_MS: Record<CacheTtl, number> = { '5m': 5 * 60_000, '1h': 60 * 60_000 };

/**
 * The shortest prefix a model caches (prompt-caching docs: 4,096 tokens for Haiku 4.5 and Opus 4.5; 1,024 for the
 * Sonnet 4.x models). Opus 4.7 is assumed to follow Opus 4.5.
 */
const MIN_CACHEABLE: Record<string, number> = { 'claude-haiku-4-5': 4096, 'claude-sonnet-4-6': 1024, 'claude-opus-4-7': 4096 };

const count = (text: string) => encodingTokens('o200k_base', text);

export interface PromptCache {
  /** key → when the entry expires (ms). */
  entries: Map<string, number>;
}

/** Usage as @anthropic-ai/sdk 1.16 types it (every field present; null where the emulator has nothing to say). */
export interface AnthropicUsageOut {
  input_tokens: number;
  cache_creation_input_tokens: number;
  cache_read_input_tokens: number;
  cache_creation: { ephemeral_5m_input_tokens: number; ephemeral_1h_input_tokens: number };
  output_tokens: number;
  output_tokens_details: null;
  server_tool_use: null;
  inference_geo: null;
  service_tier: 'standard' | 'batch';
  speed: 'standard';
}

/** Message as @anthropic-ai/sdk 1.16 types it. */
export interface AnthropicMessageOut {
  id: string;
  type: 'message';
  role: 'assistant';
  model: string;
  container: null;
  diagnostics: null;
  content: Array<{ type: 'text'; text: string; citations: null } | { type: 'tool_use'; id: string; name: string; input: unknown; caller: { type: 'direct' } }>;
  stop_reason: 'end_turn' | 'max_tokens' | 'tool_use' | 'refusal';
  stop_details: null;
  stop_sequence: null;
  usage: AnthropicUsageOut;
}

/** The request in the grader's terms (the OpenAI side's checked request), so both sides grade alike. */
function asChatRequest(req: ValidMessageRequest, promptTokens: number): ValidChatRequest {
  const messages: ChatMessageIn[] = [
    ...(req.systemText ? [{ role: 'system' as const, content: req.systemText }] : []),
    ...req.userTexts.map((text) => ({ role: 'user' as const, content: text })),
  ];
  return {
    model: req.params.model,
    responseModel: req.params.model,
    reasoning: false,
    messages,
    promptTokens,
    maxCompletionTokens: req.params.max_tokens,
    responseFormat: req.answerTool ? { type: 'json_schema', json_schema: { name: req.answerTool.name, schema: req.answerTool.schema, strict: true } } : null,
  };
}

/** Running token totals at each segment's end (the tool prompt sits with the tools, at the front), and the whole prompt. */
function promptTokens(req: ValidMessageRequest): { ends: number[]; total: number } {
  const toolPrompt = req.params.tools?.length ? (req.params.tool_choice?.type === 'tool' || req.params.tool_choice?.type === 'any' ? FORCED_TOOL_PROMPT_TOKENS : AUTO_TOOL_PROMPT_TOKENS) : 0;
  let running = toolPrompt;
  const ends = req.segments.map((s) => (running += count(s.text)));
  return { ends, total: running + req.params.messages.length * TURN_FRAMING_TOKENS };
}

/** The context window holds the prompt and max_tokens together (the API's two messages, for newer models). */
function checkContextWindow(req: ValidMessageRequest, total: number): void {
  const window = req.contextWindow;
  if (window === null) return;
  if (total > window) throw invalid(`prompt is too long: ${total} tokens > ${window} maximum`);
  if (total + req.params.max_tokens > window) {
    throw invalid(`input length and \`max_tokens\` exceed context limit: ${total} + ${req.params.max_tokens} > ${window}, decrease input length or \`max_tokens\` and try again`);
  }
}

/** Input tokens, split into plain, read and written, with the cache updated as Anthropic's would be. */
function cacheUsage(req: ValidMessageRequest, tokens: { ends: number[]; total: number }, cache: PromptCache, nowMs: number) {
  const { ends, total } = tokens;
  const min = MIN_CACHEABLE[req.params.model] ?? 1024;
  const keyAt = (i: number) => hexHash(32, req.params.model, JSON.stringify(req.segments.slice(0, i + 1).map((s) => s.text)));
  const points = req.segments.flatMap((s, i) => (s.cache ? [{ i, ttl: s.cache }] : []));
  let read = 0;
  let hitIndex = -1;
  for (const p of [...points].reverse()) {
    const expires = cache.entries.get(keyAt(p.i));
    if (expires !== undefined && expires > nowMs) {
      read = ends[p.i]!;
      hitIndex = p.i;
      cache.entries.set(keyAt(p.i), nowMs + TTL_MS[p.ttl]);
      break;
    }
  }
  const written = { '5m': 0, '1h': 0 };
  let cachedUpTo = read;
  for (const p of points) {
    if (p.i <= hitIndex || ends[p.i]! < min) continue;
    written[p.ttl] += ends[p.i]! - cachedUpTo;
    cachedUpTo = ends[p.i]!;
    cache.entries.set(keyAt(p.i), nowMs + TTL_MS[p.ttl]);
  }
  return { total, read, written };
}

function toolUse(name: string, input: unknown): { type: 'tool_use'; id: string; name: string; input: unknown; caller: { type: 'direct' } } {
  return { type: 'tool_use', id: newId('toolu_', 24), name, input, caller: { type: 'direct' } };
}

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
 * Answers a checked request. Faults are rolled per faultKey (a batch request's custom_id, or the request itself);
 * `tier` is what usage reports (batch for a batch's requests).
 */
export function completeMessage(req: ValidMessageRequest, faults: OutputFaults, cache: PromptCache, options: { faultKey?: string; nowMs: number; tier: 'standard' | 'batch' }): AnthropicMessageOut {
  const tokens = promptTokens(req);
  checkContextWindow(req, tokens.total);
  const usageIn = cacheUsage(req, tokens, cache, options.nowMs);
  const chat = asChatRequest(req, usageIn.total);
  const key = requestKey(chat);
  const roll = (what: string) => unitHash(faults.seed, what, options.faultKey ?? key);
  let content: AnthropicMessageOut['content'];
  let stop: AnthropicMessageOut['stop_reason'];
  let outputTokens: number;
  if (roll('refusal') < faults.refusalRate) {
    content = [{ type: 'text', text: REFUSAL_TEXT, citations: null }];
    stop = 'refusal';
    outputTokens = count(REFUSAL_TEXT);
  } else {
    const answer = intendedAnswer(chat, faults.seed);
    const value = roll('out-of-range') < faults.outOfRangeOutputRate ? outOfRange(answer) : answer.value;
    const text = typeof value === 'string' ? value : JSON.stringify(value);
    outputTokens = count(text) + (req.answerTool ? 12 : 0);
    const cut = roll('malformed') < faults.malformedOutputRate || outputTokens > req.params.max_tokens;
    if (cut) {
      // Stopped by max_tokens mid-answer: a tool call cut off carries no complete input.
      outputTokens = Math.min(req.params.max_tokens, Math.max(1, Math.floor(outputTokens * 0.6)));
      content = req.answerTool ? [toolUse(req.answerTool.name, {})] : [{ type: 'text', text: text.slice(0, Math.floor(text.length * 0.6)), citations: null }];
      stop = 'max_tokens';
    } else if (req.answerTool) {
      content = [toolUse(req.answerTool.name, typeof value === 'string' ? {} : value)];
      stop = 'tool_use';
    } else {
      content = [{ type: 'text', text, citations: null }];
      stop = 'end_turn';
    }
  }
  const written = usageIn.written['5m'] + usageIn.written['1h'];
  return {
    id: newId('msg_', 24),
    type: 'message',
    role: 'assistant',
    model: req.params.model,
    container: null,
    diagnostics: null,
    content,
    stop_reason: stop,
    stop_details: null,
    stop_sequence: null,
    usage: {
      input_tokens: usageIn.total - usageIn.read - written,
      cache_creation_input_tokens: written,
      cache_read_input_tokens: usageIn.read,
      cache_creation: { ephemeral_5m_input_tokens: usageIn.written['5m'], ephemeral_1h_input_tokens: usageIn.written['1h'] },
      output_tokens: outputTokens,
      output_tokens_details: null,
      server_tool_use: null,
      inference_geo: null,
      service_tier: options.tier,
      speed: 'standard',
    },
  };
}
