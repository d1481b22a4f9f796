import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import type Anthropic from '@anthropic-ai/sdk';
import { z } from 'zod';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.js';
import { gradingJsonSchema } from '../../src/grading/result.schema.js';
import { buildMessages } from '../../src/grading/messages.js';

/**
 * The emulator's Anthropic side against Anthropic's documented shapes, over plain HTTP (fetch: nothing of ours in
 * between). The shapes are written here from @anthropic-ai/sdk 1.16's types (src/resources/messages/batches.ts,
 * messages.ts, shared.ts — generated from Anthropic's OpenAPI spec), strict, and held to those types by the
 * compiler below; the states and result types from the Message Batches docs (as copied into
 * ../shared/reference/provider-batch-apis.md, 2026-09).
 */

const iso = z.string().refine((s) => !Number.isNaN(Date.parse(s)) && s.endsWith('Z'), 'an RFC 3339 time');
const counts = z.strictObject({ processing: z.number().int(), succeeded: z.number().int(), errored: z.number().int(), canceled: z.number().int(), expired: z.number().int() });
const messageBatch = z.strictObject({
  id: z.string().regex(/^msgbatch_/),
  type: z.literal('message_batch'),
  processing_status: z.enum(['in_progress', 'canceling', 'ended']),
  request_counts: counts,
  created_at: iso,
  expires_at: iso,
  ended_at: iso.nullable(),
  archived_at: iso.nullable(),
  cancel_initiated_at: iso.nullable(),
  results_url: z.string().url().nullable(),
});
const usage = z.strictObject({
  input_tokens: z.number().int().min(0),
  output_tokens: z.number().int().min(0),
  cache_creation_input_tokens: z.number().int().min(0).nullable(),
  cache_read_input_tokens: z.number().int().min(0).nullable(),
  cache_creation: z.strictObject({ ephemeral_5m_input_tokens: z.number().int(), ephemeral_1h_input_tokens: z.number().int() }).nullable(),
  output_tokens_details: z.strictObject({ thinking_tokens: z.number().int() }).nullable(),
  server_tool_use: z.null(),
  inference_geo: z.string().nullable(),
  service_tier: z.enum(['standard', 'priority', 'batch']).nullable(),
  speed: z.enum(['standard', 'fast']).nullable(),
});
const textBlock = z.strictObject({ type: z.literal('text'), text: z.string(), citations: z.null() });
const toolUseBlock = z.strictObject({ type: z.literal('tool_use'), id: z.string().regex(/^toolu_/), name: z.string(), input: z.unknown(), caller: z.strictObject({ type: z.literal('direct') }) });
const message = z.strictObject({
  id: z.string().regex(/^msg_/),
  type: z.literal('message'),
  role: z.literal('assistant'),
  model: z.string(),
  container: z.null(),
  diagnostics: z.null(),
  content: z.array(z.union([textBlock, toolUseBlock])),
  stop_reason: z.enum(['end_turn', 'max_tokens', 'stop_sequence', 'tool_use', 'pause_turn', 'refusal', 'model_context_window_exceeded']).nullable(),
  stop_details: z.null(),
  stop_sequence: z.string().nullable(),
  usage,
});
const errorObject = z.strictObject({ type: z.enum(['invalid_request_error', 'authentication_error', 'billing_error', 'permission_error', 'not_found_error', 'rate_limit_error', 'timeout_error', 'api_error', 'overloaded_error', 'request_too_large']), message: z.string().min(1) });
const errorResponse = z.strictObject({ type: z.literal('error'), error: errorObject, request_id: z.string().regex(/^req_/).nullable() });
const resultLine = z.strictObject({
  custom_id: z.string(),
  result: z.union([
    z.strictObject({ type: z.literal('succeeded'), message }),
    z.strictObject({ type: z.literal('errored'), error: errorResponse }),
    z.strictObject({ type: z.literal('canceled') }),
    z.strictObject({ type: z.literal('expired') }),
  ]),
});
const listPage = z.strictObject({ data: z.array(messageBatch), has_more: z.boolean(), first_id: z.string().nullable(), last_id: z.string().nullable() });
const deleted = z.strictObject({ id: z.string(), type: z.literal('message_batch_deleted') });

// The shapes above are the SDK's: the compiler refuses these lines if one of them drifts from its type.
export const holdsToSdk: Array<(x: never) => unknown> = [
  (x: z.infer<typeof messageBatch>): Anthropic.Messages.MessageBatch => x,
  (x: z.infer<typeof usage>): Omit<Anthropic.Messages.Usage, 'server_tool_use'> => x,
  (x: z.infer<typeof deleted>): Anthropic.Messages.DeletedMessageBatch => x,
  (x: z.infer<typeof errorResponse>): Omit<Anthropic.ErrorResponse, 'error'> & { error: { type: string; message: string } } => x,
];

const HEADERS = { 'x-api-key': 'any-key', 'anthropic-version': '2023-06-01', 'content-type': 'application/json' };
let emu: RunningEmulator;

beforeAll(async () => {
  emu = await startEmulator({ timings: { validatingMs: 0, inProgressMs: 0, finalizingMs: 0 } });
});
afterAll(async () => {
  await emu.close();
});
beforeEach(() => emu.reset());

async function call(method: string, path: string, body?: unknown, headers: Record<string, string> = HEADERS): Promise<{ status: number; body: unknown; headers: Headers }> {
  const res = await fetch(`${emu.url}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null, headers: res.headers };
}

function expectShape(schema: z.ZodType, body: unknown): void {
  const parsed = schema.safeParse(body);
  expect(parsed.success ? [] : parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`)).toEqual([]);
}

const RUBRIC = [
  { id: 'thesis', name: 'Thesis', description: 'A clear, arguable thesis.', maxPoints: 4 },
  { id: 'evidence', name: 'Evidence', description: 'Sources support each claim.', maxPoints: 6 },
];
const SCHEMA = gradingJsonSchema(RUBRIC, 10);

/** A grading request as the tool sends it: the schema as a forced strict tool (bounds in words), cached system. */
function gradingParams(essay: string, extra: Record<string, unknown> = {}) {
  const [system, user] = buildMessages({ template: 'Criteria:\n{task_criteria}\n\n{student_submission}', systemInstructions: 'Grade fairly.', graderInstructions: '', rubric: RUBRIC, maxScore: 10 }, { title: 'Essay', description: 'Argue.' }, essay);
  const strip = (n: unknown): unknown =>
    Array.isArray(n) ? n.map(strip) : n && typeof n === 'object' ? Object.fromEntries(Object.entries(n).filter(([k]) => k !== 'minimum' && k !== 'maximum').map(([k, v]) => [k, strip(v)])) : n;
  return {
    model: 'claude-haiku-4-5',
    max_tokens: 1200,
    temperature: 0.2,
    system: [{ type: 'text', text: system!.content, cache_control: { type: 'ephemeral', ttl: '1h' } }],
    messages: [{ role: 'user', content: [{ type: 'text', text: user!.content }] }],
    tools: [{ name: 'grading_result', description: 'Record the assessment.', input_schema: strip(SCHEMA), strict: true }],
    tool_choice: { type: 'tool', name: 'grading_result' },
    ...extra,
  };
}

async function createBatch(requests: Array<{ custom_id: string; params: unknown }>) {
  const created = await call('POST', '/v1/messages/batches', { requests });
  expect(created.status).toBe(200);
  expectShape(messageBatch, created.body);
  return created.body as z.infer<typeof messageBatch>;
}

async function resultsOf(id: string): Promise<Array<z.infer<typeof resultLine>>> {
  const res = await fetch(`${emu.url}/v1/messages/batches/${id}/results`, { headers: HEADERS });
  expect(res.status).toBe(200);
  const lines = (await res.text()).split('\n').filter(Boolean).map((l) => JSON.parse(l) as unknown);
  for (const l of lines) expectShape(resultLine, l);
  return lines as Array<z.infer<typeof resultLine>>;
}

describe('the shapes themselves', () => {
  it('refuse what breaks them', () => {
    expect(messageBatch.safeParse({ id: 'msgbatch_1', type: 'message_batch', processing_status: 'done' }).success).toBe(false);
    expect(resultLine.safeParse({ custom_id: 'a', result: { type: 'failed' } }).success).toBe(false);
    expect(errorResponse.safeParse({ error: { message: 'x' } }).success).toBe(false);
  });
});

describe('Messages (real time)', () => {
  it('answers a grading request through the forced tool, in the Message shape, with a request-id header', async () => {
    const res = await call('POST', '/v1/messages', gradingParams('Cats are better than dogs because they are independent. Studies show owners report less stress.'));
    expect(res.status).toBe(200);
    expect(res.headers.get('request-id')).toMatch(/^req_/);
    expectShape(message, res.body);
    const m = res.body as z.infer<typeof message>;
    expect(m).toMatchObject({ stop_reason: 'tool_use', model: 'claude-haiku-4-5', usage: { service_tier: 'standard' } });
    const call0 = m.content[0] as z.infer<typeof toolUseBlock>;
    expect(call0.name).toBe('grading_result');
    const answer = call0.input as { criteria: Record<string, { score: number }>; total_score: number };
    // The bounds were only in words: the grader still keeps each score within its criterion's points.
    expect(answer.criteria.thesis!.score).toBeLessThanOrEqual(4);
    expect(answer.criteria.evidence!.score).toBeLessThanOrEqual(6);
    expect(answer.total_score).toBeLessThanOrEqual(10);
  });

  it('writes a long cached prefix once, then reads it (5-minute entry by default; 1-hour when asked)', async () => {
    const long = 'Grade the essay against the rubric and cite the student. '.repeat(500);
    const params = (essay: string, ttl?: '1h') => {
      const p = gradingParams(essay);
      p.system = [{ type: 'text', text: long, cache_control: ttl ? { type: 'ephemeral', ttl } : ({ type: 'ephemeral' } as never) }];
      return p;
    };
    const first = (await call('POST', '/v1/messages', params('One essay.'))).body as z.infer<typeof message>;
    expect(first.usage.cache_creation).toMatchObject({ ephemeral_1h_input_tokens: 0 });
    expect(first.usage.cache_creation!.ephemeral_5m_input_tokens).toBeGreaterThan(4096);
    expect(first.usage.cache_creation_input_tokens).toBe(first.usage.cache_creation!.ephemeral_5m_input_tokens);
    expect(first.usage.cache_read_input_tokens).toBe(0);
    const second = (await call('POST', '/v1/messages', params('Another essay, longer than the first.'))).body as z.infer<typeof message>;
    expect(second.usage.cache_read_input_tokens).toBe(first.usage.cache_creation_input_tokens);
    expect(second.usage.cache_creation_input_tokens).toBe(0);
    // A short prefix (under Haiku 4.5's 4,096 tokens) is never cached.
    const short = (await call('POST', '/v1/messages', gradingParams('Short.'))).body as z.infer<typeof message>;
    expect([short.usage.cache_creation_input_tokens, short.usage.cache_read_input_tokens]).toEqual([0, 0]);
  });

  it.each([
    ['no x-api-key', { 'anthropic-version': '2023-06-01' }, 401, 'authentication_error', 'x-api-key header is required'],
    ['no anthropic-version', { 'x-api-key': 'k' }, 400, 'invalid_request_error', 'anthropic-version: header is required'],
  ])('refuses a call with %s, in the error envelope', async (_name, headers, status, type, text) => {
    const res = await call('POST', '/v1/messages', gradingParams('x'), { ...headers, 'content-type': 'application/json' });
    expect(res.status).toBe(status);
    expectShape(errorResponse, res.body);
    expect(res.body).toMatchObject({ type: 'error', error: { type, message: text } });
  });

  it.each([
    ['an unknown parameter', { max_completion_tokens: 5 }, 400, /^max_completion_tokens: Extra inputs are not permitted$/],
    ['an unknown model', { model: 'claude-9' }, 404, /^model: claude-9$/],
    ['no max_tokens', { max_tokens: undefined }, 400, /^max_tokens: Field required$/],
    ['a temperature above 1', { temperature: 1.5 }, 400, /^temperature: Input should be less than or equal to 1$/],
    ['a tool_choice naming no tool', { tool_choice: { type: 'tool', name: 'other' } }, 400, /Tool 'other' not found/],
    ['a streamed call', { stream: true }, 400, /^stream:/],
    ['a context window overrun', { max_tokens: 199_990 }, 400, /^input length and `max_tokens` exceed context limit: \d+ \+ 199990 > 200000/],
  ])('refuses %s as the API does', async (_name, extra, status, text) => {
    const res = await call('POST', '/v1/messages', gradingParams('x', extra));
    expect(res.status).toBe(status);
    expectShape(errorResponse, res.body);
    expect((res.body as z.infer<typeof errorResponse>).error.message).toMatch(text);
  });

  it('refuses a strict tool whose schema has bounds strict mode does not take, and a fifth cache breakpoint', async () => {
    const bounded = gradingParams('x');
    bounded.tools[0]!.input_schema = SCHEMA;
    const res = await call('POST', '/v1/messages', bounded);
    expect(res.status).toBe(400);
    expect((res.body as z.infer<typeof errorResponse>).error.message).toMatch(/^tools\.0\.custom\.input_schema: Schema feature not supported with strict mode: 'minimum'/);
    const open = gradingParams('x');
    open.tools[0]!.input_schema = { type: 'object', properties: { a: { type: 'string' } }, required: ['a'] };
    expect(((await call('POST', '/v1/messages', open)).body as z.infer<typeof errorResponse>).error.message).toMatch(/'additionalProperties' must be explicitly set to false/);
    const five = gradingParams('x');
    five.messages = [{ role: 'user', content: ['a', 'b', 'c', 'd', 'e'].map((text) => ({ type: 'text', text, cache_control: { type: 'ephemeral' } })) as never }];
    expect(((await call('POST', '/v1/messages', five)).body as z.infer<typeof errorResponse>).error.message).toBe('A maximum of 4 blocks with cache_control may be provided. Found 6.');
  });

  it('injects call failures in Anthropic\'s terms: 429 rate_limit_error with retry-after, 500 api_error, 529 overloaded_error', async () => {
    emu.setFaults({ chatFailures: { count: 3, status: 429 } });
    const limited = await call('POST', '/v1/messages', gradingParams('x'));
    expect([limited.status, limited.headers.get('retry-after'), (limited.body as z.infer<typeof errorResponse>).error.type]).toEqual([429, '1', 'rate_limit_error']);
    emu.setFaults({ chatFailures: { count: 1, status: 503 } });
    const over = await call('POST', '/v1/messages', gradingParams('x'));
    expect([over.status, (over.body as z.infer<typeof errorResponse>).error.type]).toEqual([529, 'overloaded_error']);
    emu.setFaults({ chatFailures: { count: 1, status: 500 } });
    const down = await call('POST', '/v1/messages', gradingParams('x'));
    expect([down.status, (down.body as z.infer<typeof errorResponse>).error.type]).toEqual([500, 'api_error']);
    expect((await call('POST', '/v1/messages', gradingParams('x'))).status).toBe(200);
  });

  it('injects refusals and answers cut off at max_tokens', async () => {
    emu.setFaults({ refusalRate: 1 });
    const refused = (await call('POST', '/v1/messages', gradingParams('x'))).body as z.infer<typeof message>;
    expect(refused.stop_reason).toBe('refusal');
    emu.setFaults({ malformedOutputRate: 1 });
    const cut = (await call('POST', '/v1/messages', gradingParams('x'))).body as z.infer<typeof message>;
    expect(cut.stop_reason).toBe('max_tokens');
    expect(cut.content[0]).toMatchObject({ type: 'tool_use', input: {} });
  });
});

describe('Message Batches', () => {
  it('create → retrieve → list → results → delete, each in the documented shape; counts stay "processing" until the batch ends', async () => {
    emu.setFaults({ timings: { inProgressMs: 300 } });
    const created = await createBatch([
      { custom_id: 'qi-1-a1', params: gradingParams('A thoughtful essay with evidence.') },
      { custom_id: 'qi-2-a1', params: gradingParams('Short.') },
    ]);
    expect(created).toMatchObject({ processing_status: 'in_progress', request_counts: { processing: 2, succeeded: 0, errored: 0, canceled: 0, expired: 0 }, ended_at: null, results_url: null });
    expect(Date.parse(created.expires_at) - Date.parse(created.created_at)).toBe(86_400_000);
    const early = await call('GET', `/v1/messages/batches/${created.id}/results`);
    expect(early.status).toBe(400);
    expectShape(errorResponse, early.body);
    const busy = await call('DELETE', `/v1/messages/batches/${created.id}`);
    expect(busy.status).toBe(400);

    await new Promise((r) => setTimeout(r, 400));
    const ended = (await call('GET', `/v1/messages/batches/${created.id}`)).body as z.infer<typeof messageBatch>;
    expectShape(messageBatch, ended);
    expect(ended).toMatchObject({ processing_status: 'ended', request_counts: { processing: 0, succeeded: 2, errored: 0, canceled: 0, expired: 0 }, results_url: `${emu.url}/v1/messages/batches/${created.id}/results` });
    expect(ended.ended_at).not.toBeNull();
    const list = await call('GET', '/v1/messages/batches?limit=5');
    expectShape(listPage, list.body);
    expect(list.body).toMatchObject({ first_id: created.id, last_id: created.id, has_more: false });

    const results = await resultsOf(created.id);
    expect(results.map((r) => r.custom_id).sort()).toEqual(['qi-1-a1', 'qi-2-a1']);
    for (const r of results) expect(r.result).toMatchObject({ type: 'succeeded', message: { usage: { service_tier: 'batch' } } });

    const del = await call('DELETE', `/v1/messages/batches/${created.id}`);
    expectShape(deleted, del.body);
    expect((await call('GET', `/v1/messages/batches/${created.id}`)).status).toBe(404);
  });

  it('reports every result type: succeeded, errored (refused params, injected errors), canceled and expired', async () => {
    emu.setFaults({ lineErrorRate: 1, lineErrorStatus: 500 });
    const errored = await createBatch([{ custom_id: 'e-1', params: gradingParams('x') }, { custom_id: 'e-2', params: { model: 'claude-9', max_tokens: 5, messages: [] } }]);
    const erroredLines = await resultsOf(errored.id);
    const byId = Object.fromEntries(erroredLines.map((l) => [l.custom_id, l.result]));
    // Params are checked as each request runs: a bad one errors alone, the batch is not refused.
    expect(byId['e-2']).toMatchObject({ type: 'errored', error: { type: 'error', error: { type: 'invalid_request_error' } } });
    expect(byId['e-1']).toMatchObject({ type: 'errored', error: { error: { type: 'api_error' } } });

    emu.setFaults({ expireNextBatches: 1, expireCompletedFraction: 0.5 });
    const expiring = await createBatch(['x-1', 'x-2', 'x-3', 'x-4'].map((custom_id) => ({ custom_id, params: gradingParams(custom_id) })));
    const expired = (await call('GET', `/v1/messages/batches/${expiring.id}`)).body as z.infer<typeof messageBatch>;
    expect(expired).toMatchObject({ processing_status: 'ended', request_counts: { succeeded: 2, expired: 2 } });
    expect((await resultsOf(expiring.id)).map((l) => l.result.type).sort()).toEqual(['expired', 'expired', 'succeeded', 'succeeded']);

    emu.setFaults({ timings: { inProgressMs: 60_000, finalizingMs: 0 } });
    const slow = await createBatch(['c-1', 'c-2'].map((custom_id) => ({ custom_id, params: gradingParams(custom_id) })));
    const canceling = await call('POST', `/v1/messages/batches/${slow.id}/cancel`);
    expectShape(messageBatch, canceling.body);
    expect((canceling.body as z.infer<typeof messageBatch>).cancel_initiated_at).not.toBeNull();
    const canceled = (await call('GET', `/v1/messages/batches/${slow.id}`)).body as z.infer<typeof messageBatch>;
    expect(canceled).toMatchObject({ processing_status: 'ended', request_counts: { canceled: 2 } });
    expect((await resultsOf(slow.id)).map((l) => l.result)).toEqual([{ type: 'canceled' }, { type: 'canceled' }]);
    const again = await call('POST', `/v1/messages/batches/${slow.id}/cancel`);
    expect(again.status).toBe(400);
  });

  it('stays in progress while stuck, and reports an undocumented status word when told to', async () => {
    emu.setFaults({ stuck: { phase: 'finalizing', batches: 1, forMs: null }, unknownStatus: { status: 'reticulating', batches: 1 } });
    const created = await call('POST', '/v1/messages/batches', { requests: [{ custom_id: 's-1', params: gradingParams('x') }] });
    expect(created.body).toMatchObject({ processing_status: 'reticulating', request_counts: { processing: 1 }, results_url: null });
    const id = (created.body as { id: string }).id;
    await new Promise((r) => setTimeout(r, 50));
    expect((await call('GET', `/v1/messages/batches/${id}`)).body).toMatchObject({ processing_status: 'reticulating', ended_at: null });
    // Stuck until canceled: the cancel ends it, the finished request kept.
    await call('POST', `/v1/messages/batches/${id}/cancel`);
    await new Promise((r) => setTimeout(r, 50));
    expect((await call('GET', `/v1/messages/batches/${id}`)).body).toMatchObject({ processing_status: 'ended' });
  });

  it.each([
    ['no requests', { requests: [] }, /^requests: List should have at least 1 item/],
    ['a bad custom_id', { requests: [{ custom_id: 'has space', params: {} }] }, /^requests\.0\.custom_id: String should match pattern/],
    ['a duplicate custom_id', { requests: [{ custom_id: 'a', params: {} }, { custom_id: 'a', params: {} }] }, /custom_id 'a' is used more than once/],
    ['an unknown key', { requests: [{ custom_id: 'a', params: {}, method: 'POST' }] }, /^requests\.0\.method: Extra inputs are not permitted/],
  ])('refuses a create with %s', async (_name, body, text) => {
    const res = await call('POST', '/v1/messages/batches', body);
    expect(res.status).toBe(400);
    expectShape(errorResponse, res.body);
    expect((res.body as z.infer<typeof errorResponse>).error.message).toMatch(text);
  });

  it('injects create and delete failures, and a create that happens although its answer is lost', async () => {
    emu.setFaults({ createBatchFailures: { count: 1, status: 500, created: true } });
    const lost = await call('POST', '/v1/messages/batches', { requests: [{ custom_id: 'l-1', params: gradingParams('x') }] });
    expect([lost.status, (lost.body as z.infer<typeof errorResponse>).error.type]).toEqual([500, 'api_error']);
    const listed = (await call('GET', '/v1/messages/batches')).body as z.infer<typeof listPage>;
    expect(listed.data).toHaveLength(1);
    emu.setFaults({ deleteFileFailures: { count: 1, status: 429 } });
    expect((await call('DELETE', `/v1/messages/batches/${listed.data[0]!.id}`)).status).toBe(429);
    expect((await call('DELETE', `/v1/messages/batches/${listed.data[0]!.id}`)).status).toBe(200);
    expect((await call('GET', '/v1/messages/batches/msgbatch_nope')).status).toBe(404);
  });

  it('pages the list newest first with after_id and before_id', async () => {
    const ids: string[] = [];
    for (const n of [1, 2, 3]) ids.push((await createBatch([{ custom_id: `p-${n}`, params: gradingParams('x') }])).id);
    const first = (await call('GET', '/v1/messages/batches?limit=2')).body as z.infer<typeof listPage>;
    expect([first.data.map((b) => b.id), first.has_more]).toEqual([[ids[2], ids[1]], true]);
    const next = (await call('GET', `/v1/messages/batches?limit=2&after_id=${first.last_id}`)).body as z.infer<typeof listPage>;
    expect([next.data.map((b) => b.id), next.has_more]).toEqual([[ids[0]], false]);
    const back = (await call('GET', `/v1/messages/batches?limit=2&before_id=${ids[0]}`)).body as z.infer<typeof listPage>;
    expect(back.data.map((b) => b.id)).toEqual([ids[2], ids[1]]);
  });
});
