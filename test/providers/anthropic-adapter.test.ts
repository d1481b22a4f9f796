import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.js';
import { gradingRequestFor, type RequestContext } from '../../src/grading/request.js';
import { gradingJsonSchema } from '../../src/grading/result.schema.js';
import { AnthropicBatchProvider } from '../../src/providers/anthropic/anthropic-provider.js';
import { toSnapshot, type MessageBatch } from '../../src/providers/anthropic/batch-snapshot.js';
import { anthropicMessageParams, buildAnthropicRequestLine, splitAtSubmission, strictToolSchema } from '../../src/providers/anthropic/request-params.js';
import { SUBMISSION_OPEN } from '../../src/grading/messages.js';
import { fromAnthropicUsage, parseResultLine } from '../../src/providers/anthropic/result-line.js';
import { ProviderError } from '../../src/providers/errors.js';
import { createProviders } from '../../src/providers/index.js';
import { loadConfig } from '../../src/config.js';
import type { BatchResultLine } from '../../src/providers/provider.js';

/**
 * The Anthropic adapter: what it sends (a forced strict tool, cache breakpoints), how it reads what comes back (every
 * result type, usage with cache reads and writes, every batch state) and how it fails — against the emulator over
 * real HTTP, through the official SDK.
 */

const RUBRIC = [
  { id: 'thesis', name: 'Thesis', description: 'A clear thesis.', maxPoints: 4 },
  { id: 'evidence', name: 'Evidence', description: 'Sources support the claims.', maxPoints: 6 },
];
const ctx = (over: Partial<RequestContext['version']> = {}): RequestContext => ({
  version: {
    template: 'Criteria:\n{task_criteria}\nOut of {max_score}.\n\n{student_submission}',
    systemInstructions: 'You grade essays fairly.',
    graderInstructions: '',
    rubric: RUBRIC,
    maxScore: 10,
    model: 'claude-haiku-4-5',
    temperature: 0.2,
    maxOutputTokens: 1200,
    outputSchema: gradingJsonSchema(RUBRIC, 10),
    ...over,
  },
  task: { title: 'Essay', description: 'Argue a point.' },
});
const request = (essay: string, customId = 'qi-1-a1', over: Partial<RequestContext['version']> = {}) => gradingRequestFor(ctx(over), essay, customId);

let emu: RunningEmulator;
let provider: AnthropicBatchProvider;

beforeAll(async () => {
  emu = await startEmulator({ timings: { validatingMs: 0, inProgressMs: 0, finalizingMs: 0 } });
  provider = new AnthropicBatchProvider({ apiKey: 'test-key', baseURL: emu.url, retry: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 5 } });
});
afterAll(async () => {
  await emu.close();
});
beforeEach(() => emu.reset());

async function collect(fileId: string): Promise<BatchResultLine[]> {
  const out: BatchResultLine[] = [];
  for await (const line of provider.streamResults(fileId)) out.push(line);
  return out;
}

describe('what is sent', () => {
  it('holds the answer to its schema with a forced strict tool, bounds said in words', () => {
    const params = anthropicMessageParams(request('An essay.'), '1h');
    expect(params.tool_choice).toEqual({ type: 'tool', name: 'grading_result', disable_parallel_tool_use: true });
    const tool = params.tools![0]!;
    expect(tool).toMatchObject({ name: 'grading_result', strict: true });
    expect(JSON.stringify(tool.input_schema)).not.toMatch(/"minimum"|"maximum"/);
    const props = (tool.input_schema as { properties: Record<string, { description?: string; properties?: Record<string, { properties: { score: { description: string } } }> }> }).properties;
    // "from 0 to 4" was already in the description: nothing added; a bound it did not name is added.
    expect(props.criteria!.properties!.thesis!.properties.score.description).toBe('Points for "Thesis", from 0 to 4');
    expect(strictToolSchema({ type: 'number', minimum: 1, maximum: 10, description: 'Total' })).toEqual({ type: 'number', description: 'Total (at least 1; at most 10)' });
    expect(strictToolSchema({ type: 'number', minimum: 1, maximum: 10, description: 'From 1 to 10' })).toEqual({ type: 'number', description: 'From 1 to 10' });
    expect(strictToolSchema({ type: 'number', maximum: 1, description: 'from 0 to 10' })).toEqual({ type: 'number', description: 'from 0 to 10 (at most 1)' });
  });

  it('puts the cache breakpoint on the static prefix: the last system block, and the static user blocks before the submission', () => {
    const one = anthropicMessageParams(request('An essay.'), '1h');
    expect(one.system!.at(-1)!.cache_control).toEqual({ type: 'ephemeral', ttl: '1h' });
    expect(one.messages).toHaveLength(1);
    // One user message is cut before the submission: the template's static text carries the second breakpoint.
    const [head, tail] = one.messages[0]!.content;
    expect(one.messages[0]!.content).toHaveLength(2);
    expect(head!.cache_control).toEqual({ type: 'ephemeral', ttl: '1h' });
    expect(head!.text).not.toContain('An essay.');
    expect(tail!.text.startsWith(SUBMISSION_OPEN)).toBe(true);
    expect(tail!.cache_control).toBeUndefined();
    expect(head!.text + tail!.text).toBe(request('An essay.').messages.find((m) => m.role === 'user')!.content);
    // A source file's language line goes with the submission; a message with nothing before the submission is not cut.
    expect(splitAtSubmission(`Rubric\nLanguage: Python\n${SUBMISSION_OPEN}\nx`)).toEqual(['Rubric\n', `Language: Python\n${SUBMISSION_OPEN}\nx`]);
    expect(splitAtSubmission(`${SUBMISSION_OPEN}\nx`)).toEqual([`${SUBMISSION_OPEN}\nx`]);
    expect(splitAtSubmission(`  \n${SUBMISSION_OPEN}\nx`)).toEqual([`  \n${SUBMISSION_OPEN}\nx`]);
    const split = anthropicMessageParams({ ...request('x'), messages: [{ role: 'system', content: 'S' }, { role: 'user', content: 'Rubric…' }, { role: 'user', content: 'Submission' }] }, '5m');
    expect(split.messages).toEqual([{ role: 'user', content: [{ type: 'text', text: 'Rubric…', cache_control: { type: 'ephemeral', ttl: '5m' } }, { type: 'text', text: 'Submission' }] }]);
  });

  it('writes one batch request as {custom_id, params} on one line, with the 1-hour cache', () => {
    const line = buildAnthropicRequestLine(request('Line one.\nLine two.'));
    expect(line).not.toContain('\n');
    const parsed = JSON.parse(line) as { custom_id: string; params: { model: string; max_tokens: number; system: Array<{ cache_control: unknown }> } };
    expect(Object.keys(parsed)).toEqual(['custom_id', 'params']);
    expect(parsed).toMatchObject({ custom_id: 'qi-1-a1', params: { model: 'claude-haiku-4-5', max_tokens: 1200 } });
    expect(parsed.params.system[0]!.cache_control).toEqual({ type: 'ephemeral', ttl: '1h' });
    expect(provider.requestBody(request('x'))).toEqual(anthropicMessageParams(request('x'), '1h'));
  });

  it.each([
    ['a custom id outside Anthropic\'s alphabet', { customId: 'has space' }, /custom id "has space"/],
    ['a temperature above 1', { temperature: 1.5 }, /temperature must be from 0 to 1/],
    ['no output tokens', { maxOutputTokens: 0 }, /maxOutputTokens must be a whole number/],
  ])('refuses %s before anything is sent', (_name, over, message) => {
    expect(() => buildAnthropicRequestLine({ ...request('x'), ...over })).toThrow(message);
  });
});

describe('real time', () => {
  it('grades through the Messages API: the tool input is the answer, usage and request id read back', async () => {
    const answer = await provider.realtimeGrade(request('Cats are independent. Three studies show it.'));
    expect(answer.finishReason).toBe('stop');
    expect(answer.refusal).toBeNull();
    const parsed = JSON.parse(answer.content!) as { criteria: Record<string, unknown>; total_score: number };
    expect(Object.keys(parsed.criteria)).toEqual(['thesis', 'evidence']);
    expect(answer.requestId).toMatch(/^req_/);
    expect(answer.usage.inputTokens).toBeGreaterThan(313);
    expect(answer.model).toBe('claude-haiku-4-5');
  });

  it('reads a refusal and an answer cut off by max_tokens as evaluate.ts expects them', async () => {
    emu.setFaults({ refusalRate: 1 });
    const refused = await provider.realtimeGrade(request('x'));
    expect([refused.content, refused.finishReason]).toEqual([null, 'refusal']);
    expect(refused.refusal).toMatch(/can't help/);
    emu.setFaults({ malformedOutputRate: 1 });
    const cut = await provider.realtimeGrade(request('x'));
    expect([cut.content, cut.finishReason]).toEqual(['{}', 'length']);
  });

  it('retries an overloaded API (529) and gives up with a retryable error; a refused request is permanent', async () => {
    emu.setFaults({ chatFailures: { count: 1, status: 503 } });
    expect((await provider.realtimeGrade(request('x'))).content).not.toBeNull();
    emu.setFaults({ chatFailures: { count: 5, status: 429 } });
    const limited = await provider.realtimeGrade(request('x')).catch((e: unknown) => e);
    expect(limited).toBeInstanceOf(ProviderError);
    expect(limited).toMatchObject({ code: 'rate_limited', retryable: true, httpStatus: 429, providerCode: 'rate_limit_error' });
    expect((limited as Error).message).toMatch(/Anthropic refused to grade in real time: .*\(HTTP 429, rate_limit_error\).*Gave up after 2 attempts/);
    emu.setFaults({});
    const unknown = await provider.realtimeGrade(request('x', 'qi-1-a1', { model: 'claude-9' })).catch((e: unknown) => e);
    expect(unknown).toMatchObject({ code: 'not_found', retryable: false, providerCode: 'not_found_error' });
  });

  it('cannot reach a closed port: a retryable network error', async () => {
    const down = new AnthropicBatchProvider({ apiKey: 'k', baseURL: 'http://127.0.0.1:9', retry: { maxAttempts: 1 } });
    await expect(down.realtimeGrade(request('x'))).rejects.toMatchObject({ code: 'network', retryable: true });
  });
});

describe('a Message Batch', () => {
  it('is created in one call, read, and its results streamed: every request succeeded', async () => {
    const lines = ['qi-1-a1', 'qi-2-a1', 'qi-3-a1'].map((id, i) => provider.buildRequestLine(request(`Essay ${i}.`, id)));
    const created = await provider.createBatch({ lines, metadata: { localBatchId: 7 } });
    expect(created).toMatchObject({ requestCount: 3, inputFileId: created.providerBatchId });
    expect(created.providerBatchId).toMatch(/^msgbatch_/);
    const snap = await provider.getBatch(created.providerBatchId);
    expect(snap).toMatchObject({ status: 'completed', providerStatus: 'ended', terminal: true, requestCounts: { total: 3, completed: 3, failed: 0 }, outputFileId: created.providerBatchId, errorFileId: null, problem: null });
    const results = await collect(snap.outputFileId!);
    expect(results.map((r) => [r.kind, r.customId]).sort()).toEqual([['succeeded', 'qi-1-a1'], ['succeeded', 'qi-2-a1'], ['succeeded', 'qi-3-a1']]);
    // No metadata on Message Batches: an earlier create cannot be found again.
    expect(await provider.findBatchByMetadata()).toBeNull();
    await provider.deleteFile(created.providerBatchId);
    await expect(provider.deleteFile(created.providerBatchId)).resolves.toBeUndefined();
    await expect(provider.getBatch(created.providerBatchId)).rejects.toMatchObject({ code: 'not_found' });
  });

  it('refuses to stream results before the batch ended, and cancels into a terminal snapshot', async () => {
    emu.setFaults({ timings: { inProgressMs: 60_000, finalizingMs: 0 } });
    const created = await provider.createBatch({ lines: [provider.buildRequestLine(request('x'))], metadata: { localBatchId: 1 } });
    expect(created.snapshot).toMatchObject({ status: 'processing', providerStatus: 'in_progress', terminal: false, outputFileId: null });
    await expect(collect(created.providerBatchId)).rejects.toMatchObject({ code: 'conflict', retryable: true });
    const cancelled = await provider.cancelBatch(created.providerBatchId);
    expect(cancelled).toMatchObject({ status: 'cancelled', terminal: true });
    expect(cancelled.problem).toMatch(/The batch was canceled: 0 of 1 requests had succeeded; the 1 canceled were not run/);
    // Cancelling again is refused by Anthropic; the adapter answers how the batch ended.
    expect(await provider.cancelBatch(created.providerBatchId)).toMatchObject({ status: 'cancelled' });
    expect((await collect(created.providerBatchId)).map((r) => [r.kind, r.kind === 'not_run' ? r.code : null])).toEqual([['not_run', 'batch_cancelled']]);
  });

  it('retries a create refused with 429 (not accepted), and never retries one that may have been accepted', async () => {
    emu.setFaults({ createBatchFailures: { count: 1, status: 429 } });
    const created = await provider.createBatch({ lines: [provider.buildRequestLine(request('x'))], metadata: { localBatchId: 1 } });
    expect(created.providerBatchId).toMatch(/^msgbatch_/);
    emu.setFaults({ createBatchFailures: { count: 1, status: 500, created: true } });
    const lost = await provider.createBatch({ lines: [provider.buildRequestLine(request('x'))], metadata: { localBatchId: 2 } }).catch((e: unknown) => e);
    expect(lost).toMatchObject({ code: 'server_error', retryable: false, httpStatus: 500 });
    expect((lost as Error).message).toMatch(/Anthropic may have created the batch anyway/);
    const health = (await (await fetch(`${emu.url}/__emulator/health`)).json()) as { messageBatches: number };
    expect(health.messageBatches).toBe(2);
  });

  it('refuses an empty batch and one over Anthropic\'s request limit before anything is sent', async () => {
    await expect(provider.createBatch({ lines: [], metadata: { localBatchId: 1 } })).rejects.toMatchObject({ code: 'invalid_request' });
    const many = Array.from({ length: 100_001 }, () => '{}');
    await expect(provider.createBatch({ lines: many, metadata: { localBatchId: 1 } })).rejects.toMatchObject({ code: 'too_large' });
  });
});

describe('reading results and usage', () => {
  const message = (over: Record<string, unknown> = {}) => ({
    id: 'msg_1',
    type: 'message',
    role: 'assistant',
    model: 'claude-haiku-4-5',
    content: [{ type: 'tool_use', id: 'toolu_1', name: 'grading_result', input: { total_score: 5 } }],
    stop_reason: 'tool_use',
    usage: { input_tokens: 100, output_tokens: 50, cache_read_input_tokens: 2000, cache_creation_input_tokens: 300, cache_creation: { ephemeral_5m_input_tokens: 100, ephemeral_1h_input_tokens: 200 } },
    ...over,
  });

  it('counts every input token: plain, read from the cache, written for 5 minutes and for an hour', () => {
    expect(fromAnthropicUsage({ input_tokens: 100, output_tokens: 50, cache_read_input_tokens: 2000, cache_creation_input_tokens: 300, cache_creation: { ephemeral_5m_input_tokens: 100, ephemeral_1h_input_tokens: 200 } })).toEqual({
      inputTokens: 2400,
      cachedInputTokens: 2000,
      cacheWriteTokens: 100,
      cacheWrite1hTokens: 200,
      outputTokens: 50,
      reasoningTokens: 0,
    });
    // Without the split, writes are 5-minute ones (the default TTL).
    expect(fromAnthropicUsage({ input_tokens: 10, output_tokens: 1, cache_creation_input_tokens: 30 })).toMatchObject({ inputTokens: 40, cacheWriteTokens: 30, cacheWrite1hTokens: 0 });
  });

  it.each([
    ['succeeded', { type: 'succeeded', message: message() }, { kind: 'succeeded', content: '{"total_score":5}', finishReason: 'stop', requestId: 'msg_1' }],
    ['errored (invalid request)', { type: 'errored', error: { type: 'error', error: { type: 'invalid_request_error', message: 'bad' }, request_id: 'req_1' } }, { kind: 'errored', statusCode: 400, code: 'invalid_request_error', message: 'bad', retryable: false, requestId: 'req_1' }],
    ['errored (overloaded)', { type: 'errored', error: { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } } }, { kind: 'errored', statusCode: 529, retryable: true }],
    ['canceled', { type: 'canceled' }, { kind: 'not_run', code: 'batch_cancelled' }],
    ['expired', { type: 'expired' }, { kind: 'not_run', code: 'batch_expired' }],
    ['a text answer with no tool call', { type: 'succeeded', message: message({ content: [{ type: 'text', text: 'Plain' }], stop_reason: 'end_turn' }) }, { kind: 'succeeded', content: 'Plain' }],
  ])('reads a %s result', (_name, result, expected) => {
    expect(parseResultLine(JSON.stringify({ custom_id: 'qi-1-a1', result }), 3)).toMatchObject({ customId: 'qi-1-a1', lineNumber: 3, ...expected });
  });

  it.each([
    ['not JSON', '{nope', { customId: null, message: 'Line 4 of the batch results is not valid JSON.' }],
    ['an unknown result type', JSON.stringify({ custom_id: 'qi-1-a1', result: { type: 'vanished' } }), { customId: 'qi-1-a1' }],
    ['a succeeded result that is no message', JSON.stringify({ custom_id: 'qi-1-a1', result: { type: 'succeeded', message: { id: 1 } } }), { customId: 'qi-1-a1' }],
  ])('keeps %s as an unreadable line, never dropped', (_name, text, expected) => {
    expect(parseResultLine(text, 4)).toMatchObject({ kind: 'unreadable', lineNumber: 4, ...expected });
  });

  const batch = (over: Partial<MessageBatch> = {}): MessageBatch => ({
    id: 'msgbatch_1',
    type: 'message_batch',
    processing_status: 'ended',
    request_counts: { processing: 0, succeeded: 3, errored: 1, canceled: 0, expired: 0 },
    created_at: '2026-12-01T10:00:00Z',
    expires_at: '2026-12-02T10:00:00Z',
    ended_at: '2026-12-01T11:00:00Z',
    cancel_initiated_at: null,
    archived_at: null,
    results_url: 'https://api.anthropic.com/v1/messages/batches/msgbatch_1/results',
    ...over,
  });

  it.each([
    ['ended with every request answered', {}, { status: 'completed', requestCounts: { total: 4, completed: 3, failed: 1 }, problem: null }],
    ['ended with requests expired', { request_counts: { processing: 0, succeeded: 1, errored: 0, canceled: 0, expired: 3 } }, { status: 'expired' }],
    ['ended after a cancel', { cancel_initiated_at: '2026-12-01T10:30:00Z', request_counts: { processing: 0, succeeded: 1, errored: 0, canceled: 3, expired: 0 } }, { status: 'cancelled' }],
    ['ended after a cancel that came too late to stop anything', { cancel_initiated_at: '2026-12-01T10:59:00Z' }, { status: 'completed' }],
    ['ended with nothing succeeded', { request_counts: { processing: 0, succeeded: 0, errored: 2, canceled: 0, expired: 0 } }, { status: 'completed', problem: 'No request in the batch succeeded: all 2 errored (details in the results).' }],
    ['canceling', { processing_status: 'canceling', ended_at: null, results_url: null, cancel_initiated_at: '2026-12-01T10:30:00Z' }, { status: 'processing', terminal: false, outputFileId: null }],
    ['in a status this version does not know', { processing_status: 'archiving', ended_at: null, results_url: null }, { status: 'processing', providerStatusKnown: false, terminal: false }],
  ])('maps a batch %s', (_name, over, expected) => {
    expect(toSnapshot(batch(over as Partial<MessageBatch>))).toMatchObject(expected);
  });
});

describe('the provider registry', () => {
  const env = { LTI_KEY: 'x'.repeat(64), ENCRYPTION_KEY: Buffer.alloc(32, 1).toString('base64') };
  it('offers Anthropic on the emulator when OpenAI is simulated too, with ANTHROPIC_API_KEY, and never beside a real OpenAI alone', () => {
    expect(createProviders(loadConfig(env)).names).toEqual(['openai', 'anthropic']);
    expect(createProviders(loadConfig({ ...env, OPENAI_API_KEY: 'sk-real', ANTHROPIC_API_KEY: 'sk-ant' })).names).toEqual(['openai', 'anthropic']);
    const openaiOnly = createProviders(loadConfig({ ...env, OPENAI_API_KEY: 'sk-real' }));
    expect(openaiOnly.names).toEqual(['openai']);
    expect(() => openaiOnly.get('anthropic')).toThrow(/Anthropic is not configured in this installation\. Set ANTHROPIC_API_KEY/);
    expect(loadConfig({ ...env, ANTHROPIC_API_KEY: 'sk-ant' }).anthropic).toMatchObject({ baseUrl: 'https://api.anthropic.com', demoMode: false });
    expect(loadConfig(env).anthropic).toMatchObject({ baseUrl: 'http://127.0.0.1:4010', demoMode: true, available: true });
  });
});
