import { describe, expect, it } from '@jest/globals';
import { APIConnectionError, APIError } from 'openai';
import { z } from 'zod';
import { readLines } from '../../src/providers/jsonl.js';
import { toSnapshot, type OpenAIBatch } from '../../src/providers/openai/batch-snapshot.js';
import { retryAfterFrom, toProviderError } from '../../src/providers/openai/openai-errors.js';
import { buildOpenAIRequestLine } from '../../src/providers/openai/request-line.js';
import { parseResultLine } from '../../src/providers/openai/result-line.js';
import { ANSWER_SCHEMA_OPEN } from '../../src/grading/answer-format.js';
import { gradingJsonSchema } from '../../src/grading/result.schema.js';
import { builtGradingRequest, gradingRequest, RUBRIC } from './helpers/requests.js';

/** The adapter's translation of OpenAI's wire formats, on inputs the emulator never sends. */

const base: OpenAIBatch = {
  id: 'batch_1',
  object: 'batch',
  endpoint: '/v1/chat/completions',
  status: 'in_progress',
  input_file_id: 'file-in',
  created_at: 1_700_000_000,
  in_progress_at: 1_700_000_010,
  expires_at: 1_700_086_400,
  request_counts: { total: 10, completed: 4, failed: 1 },
};

describe('toSnapshot', () => {
  const cases: Array<[string, string, boolean]> = [
    ['validating', 'submitted', false],
    ['in_progress', 'processing', false],
    ['finalizing', 'processing', false],
    ['cancelling', 'processing', false],
    ['completed', 'completed', true],
    ['failed', 'failed', true],
    ['expired', 'expired', true],
    ['cancelled', 'cancelled', true],
    ['some_future_status', 'processing', false],
  ];
  for (const [provider, ours, terminal] of cases) {
    it(`maps ${provider} to ${ours}`, () => {
      const s = toSnapshot({ ...base, status: provider });
      expect(s).toMatchObject({ status: ours, providerStatus: provider, terminal, providerStatusKnown: provider !== 'some_future_status' });
    });
  }

  it('keeps null file ids, no usage and no metadata as null/empty', () => {
    const s = toSnapshot({ ...base, output_file_id: null, error_file_id: null, usage: null, metadata: null, errors: null });
    expect(s).toMatchObject({ outputFileId: null, errorFileId: null, usage: null, metadata: {}, errors: [], problem: null });
    expect(s.statusSince).toEqual(new Date(1_700_000_010_000));
    expect(s.expiresAt).toEqual(new Date(1_700_086_400_000));
    expect(s.finishedAt).toBeNull();
  });

  it('summarises a failure with many errors for an admin', () => {
    const data = Array.from({ length: 5 }, (_, i) => ({ code: 'invalid_json_line', message: 'This line is not parseable as valid JSON.', param: null, line: i + 1 }));
    const s = toSnapshot({ ...base, status: 'failed', failed_at: 1_700_000_020, errors: { data } });
    expect(s.problem).toBe(
      'OpenAI rejected the batch: This line is not parseable as valid JSON. (invalid_json_line, line 1); This line is not parseable as valid JSON. (invalid_json_line, line 2); This line is not parseable as valid JSON. (invalid_json_line, line 3) …and 2 more.',
    );
    expect(s.finishedAt).toEqual(new Date(1_700_000_020_000));
    expect(toSnapshot({ ...base, status: 'failed' }).problem).toBe('OpenAI rejected the batch: OpenAI gave no reason.');
  });

  it('reads batch usage', () => {
    const s = toSnapshot({ ...base, usage: { input_tokens: 100, input_tokens_details: { cached_tokens: 40 }, output_tokens: 50, output_tokens_details: { reasoning_tokens: 10 } } });
    expect(s.usage).toEqual({ inputTokens: 100, cachedInputTokens: 40, outputTokens: 50, reasoningTokens: 10 });
  });
});

describe('parseResultLine', () => {
  const body = {
    id: 'chatcmpl-1',
    model: 'gpt-4o-mini-2024-07-18',
    choices: [{ index: 0, message: { role: 'assistant', content: '{"a":1}', refusal: null }, finish_reason: 'stop' }],
    usage: { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15, prompt_tokens_details: { cached_tokens: 0 } },
  };

  it('reads a success line', () => {
    const line = parseResultLine(JSON.stringify({ id: 'batch_req_1', custom_id: 'qi-1-a1', response: { status_code: 200, request_id: 'r1', body }, error: null }), 1);
    expect(line).toEqual({
      kind: 'succeeded',
      customId: 'qi-1-a1',
      requestId: 'r1',
      lineNumber: 1,
      content: '{"a":1}',
      refusal: null,
      finishReason: 'stop',
      model: 'gpt-4o-mini-2024-07-18',
      usage: { inputTokens: 10, cachedInputTokens: 0, outputTokens: 5, reasoningTokens: 0 },
    });
  });

  it('reads a body sent as a JSON string (llama-stack and other compatible servers)', () => {
    const line = parseResultLine(JSON.stringify({ custom_id: 'qi-1-a1', response: { status_code: 200, request_id: 'r1', body: JSON.stringify(body) }, error: null }), 1);
    expect(line.kind).toBe('succeeded');
  });

  it('reads an HTTP-level failure (status_code + body.error)', () => {
    const text = JSON.stringify({
      id: 'batch_req_2',
      custom_id: 'qi-2-a1',
      response: { status_code: 400, request_id: 'r2', body: { error: { message: "This model's maximum context length is 128000 tokens.", type: 'invalid_request_error', param: 'messages', code: 'context_length_exceeded' } } },
      error: null,
    });
    expect(parseResultLine(text, 2)).toMatchObject({ kind: 'errored', statusCode: 400, code: 'context_length_exceeded', retryable: false, message: expect.stringMatching(/maximum context length/) });
    const rate = JSON.stringify({ custom_id: 'qi-3-a1', response: { status_code: 429, request_id: 'r', body: { error: { message: 'slow down', type: 'requests', code: null } } }, error: null });
    expect(parseResultLine(rate, 3)).toMatchObject({ kind: 'errored', statusCode: 429, retryable: true, code: 'requests' });
    const bare = JSON.stringify({ custom_id: 'qi-4-a1', response: { status_code: 502, request_id: 'r', body: 'Bad gateway' }, error: null });
    expect(parseResultLine(bare, 4)).toMatchObject({ kind: 'errored', statusCode: 502, retryable: true, message: 'HTTP 502 with no error message' });
  });

  it('reads requests that never ran', () => {
    for (const code of ['batch_expired', 'batch_cancelled', 'request_timeout']) {
      expect(parseResultLine(JSON.stringify({ custom_id: 'qi-5-a1', response: null, error: { code, message: 'm' } }), 5)).toMatchObject({ kind: 'not_run', code });
    }
    expect(parseResultLine(JSON.stringify({ custom_id: 'qi-5-a1', response: null, error: { code: 'mystery', message: 'm' } }), 5)).toMatchObject({
      kind: 'errored',
      statusCode: null,
      code: 'mystery',
    });
  });

  it('turns garbage into unreadable lines instead of throwing', () => {
    expect(parseResultLine('{not json', 7)).toEqual({ kind: 'unreadable', customId: null, lineNumber: 7, message: 'Line 7 of the result file is not valid JSON.' });
    expect(parseResultLine(JSON.stringify({ custom_id: 'qi-6-a1', response: { status_code: 'ok' } }), 8)).toMatchObject({ kind: 'unreadable', customId: 'qi-6-a1' });
    expect(parseResultLine(JSON.stringify({ custom_id: 'qi-6-a1', response: { status_code: 200, body: { choices: [] } } }), 9)).toMatchObject({
      kind: 'unreadable',
      message: expect.stringMatching(/^The answer to qi-6-a1 is not a chat completion/),
    });
    expect(parseResultLine(JSON.stringify({ custom_id: 'qi-6-a1', response: null, error: null }), 10)).toMatchObject({ kind: 'unreadable', message: expect.stringMatching(/neither/) });
  });
});

describe('buildOpenAIRequestLine', () => {
  it('writes one JSONL line {custom_id, method, url, body} with a strict response format', () => {
    const req = gradingRequest(5, { submission: 'Line one.\nLine two.\n\n"Quoted" text' });
    const line = buildOpenAIRequestLine(req);
    expect(line).not.toContain('\n');
    const parsed = JSON.parse(line) as { custom_id: string; method: string; url: string; body: Record<string, unknown> };
    expect(parsed).toMatchObject({ custom_id: 'qi-5-a1', method: 'POST', url: '/v1/chat/completions' });
    expect(parsed.body).toMatchObject({ model: 'gpt-4o-mini', temperature: 0.2, max_completion_tokens: 1500, response_format: { type: 'json_schema', json_schema: { strict: true } } });
    expect(parsed.body).not.toHaveProperty('max_tokens');
  });

  it('sends no response_format for a model without Structured Outputs: its schema is in the system message', () => {
    for (const model of ['gpt-4', 'gpt-3.5-turbo']) {
      const parsed = JSON.parse(buildOpenAIRequestLine(builtGradingRequest(5, model))) as { body: { messages: Array<{ role: string; content: string }> } & Record<string, unknown> };
      expect(parsed.body).not.toHaveProperty('response_format');
      expect(parsed.body).toMatchObject({ model, temperature: 0.2, max_completion_tokens: 1500 });
      expect(parsed.body.messages[0]!.content).toContain(`${ANSWER_SCHEMA_OPEN}\n${JSON.stringify(gradingJsonSchema(RUBRIC, 10))}\n`);
    }
    // The same builder still sends the strict format to a model that has Structured Outputs.
    const mini = JSON.parse(buildOpenAIRequestLine(builtGradingRequest(5, 'gpt-4o-mini'))) as { body: { messages: Array<{ content: string }> } & Record<string, unknown> };
    expect(mini.body).toMatchObject({ response_format: { type: 'json_schema', json_schema: { strict: true, schema: gradingJsonSchema(RUBRIC, 10) } } });
    expect(mini.body.messages[0]!.content).not.toContain(ANSWER_SCHEMA_OPEN);
  });

  it('leaves temperature out for reasoning models', () => {
    for (const model of ['gpt-5-mini', 'o4-mini', 'gpt-5.5', 'o3-pro']) {
      expect(JSON.parse(buildOpenAIRequestLine(gradingRequest(1, { model }))).body).not.toHaveProperty('temperature');
    }
  });

  it('refuses requests that cannot become a valid line', () => {
    expect(() => buildOpenAIRequestLine({ ...gradingRequest(1), customId: 'has space' })).toThrow(/custom id/);
    expect(() => buildOpenAIRequestLine({ ...gradingRequest(1), maxOutputTokens: 0 })).toThrow(/maxOutputTokens/);
    expect(() => buildOpenAIRequestLine({ ...gradingRequest(1), messages: [] })).toThrow(/at least one message/);
  });
});

describe('toProviderError', () => {
  const headers = new Headers({ 'retry-after': '2' });
  const apiError = (status: number, code: string | null, message = 'm') => APIError.generate(status, { error: { message, code, type: 'x' } }, undefined, headers);

  it('classifies HTTP failures as retryable or permanent, with a readable message', () => {
    const cases: Array<[number, string | null, string, boolean]> = [
      [429, 'rate_limit_exceeded', 'rate_limited', true],
      [429, 'insufficient_quota', 'quota_exceeded', false],
      [500, null, 'server_error', true],
      [503, null, 'server_error', true],
      [408, null, 'server_error', true],
      [409, null, 'conflict', true],
      [401, 'invalid_api_key', 'authentication', false],
      [403, null, 'permission', false],
      [404, null, 'not_found', false],
      [413, null, 'too_large', false],
      [400, 'invalid_value', 'invalid_request', false],
    ];
    for (const [status, providerCode, code, retryable] of cases) {
      expect(toProviderError(apiError(status, providerCode), 'do it')).toMatchObject({ code, retryable, httpStatus: status, providerCode });
    }
    expect(toProviderError(apiError(401, 'invalid_api_key', 'Incorrect API key provided.'), 'create the batch').message).toBe(
      'OpenAI refused to create the batch: Incorrect API key provided. (HTTP 401, invalid_api_key). Check OPENAI_API_KEY.',
    );
    expect(toProviderError(apiError(429, 'insufficient_quota', 'You exceeded your current quota.'), 'x').message).toMatch(/check its billing/);
  });

  it('reads Retry-After', () => {
    expect(retryAfterFrom(toProviderError(apiError(429, null), 'x'))).toBe(2000);
    const ms = APIError.generate(429, { error: { message: 'm' } }, undefined, new Headers({ 'retry-after-ms': '150' }));
    expect(retryAfterFrom(toProviderError(ms, 'x'))).toBe(150);
    expect(retryAfterFrom(toProviderError(APIError.generate(429, { error: { message: 'm' } }, undefined, new Headers()), 'x'))).toBeNull();
  });

  it('treats connection failures as retryable network errors', () => {
    const err = toProviderError(new APIConnectionError({ message: 'Connection error.' }), 'read batch b1');
    expect(err).toMatchObject({ code: 'network', retryable: true, message: 'Could not reach OpenAI to read batch b1: Connection error.' });
  });

  it('reports an answer of the wrong shape as a permanent invalid_response', () => {
    const parsed = z.object({ id: z.string() }).safeParse({});
    const err = toProviderError(parsed.error, 'read batch b1');
    expect(err).toMatchObject({ code: 'invalid_response', retryable: false });
    expect(err.message).toMatch(/^OpenAI answered "read batch b1" with something this version cannot read: id:/);
    expect(toProviderError(new TypeError('boom'), 'x')).toMatchObject({ code: 'invalid_response', message: 'Unexpected error while trying to x: boom' });
  });
});

describe('readLines', () => {
  async function* chunks(parts: Array<string | Uint8Array>) {
    for (const p of parts) yield typeof p === 'string' ? new TextEncoder().encode(p) : p;
  }
  async function all(parts: Array<string | Uint8Array>) {
    const out: string[] = [];
    for await (const l of readLines(chunks(parts))) out.push(l);
    return out;
  }

  it('splits lines across chunk boundaries, CRLF, blank lines and a missing final newline', async () => {
    expect(await all(['{"a":', '1}\r\n\n{"b"', ':2}\n{"c":3}'])).toEqual(['{"a":1}', '{"b":2}', '{"c":3}']);
  });

  it('keeps a multi-byte character split between chunks intact', async () => {
    const bytes = new TextEncoder().encode('é😀\n');
    expect(await all([bytes.slice(0, 1), bytes.slice(1, 3), bytes.slice(3)])).toEqual(['é😀']);
  });

  it('joins a line that spans many chunks, and ends a last line split between chunks', async () => {
    const long = `{"text":"${'ж'.repeat(5000)}"}`;
    const bytes = new TextEncoder().encode(`${long}\r\n{"last":1}`);
    const parts = Array.from({ length: Math.ceil(bytes.length / 7) }, (_, i) => bytes.slice(i * 7, i * 7 + 7));
    expect(await all(parts)).toEqual([long, '{"last":1}']);
  });

  it('removes a byte-order mark from the first line only, and turns bytes that are not UTF-8 into U+FFFD', async () => {
    expect(await all(['\uFEFF{"a":1}\n\uFEFF{"b":2}\n'])).toEqual(['{"a":1}', '\uFEFF{"b":2}']);
    expect(await all([new Uint8Array([0x7b, 0xff, 0x7d, 0x0a, 0x78])])).toEqual(['{\uFFFD}', 'x']);
  });

  it('reads a web ReadableStream', async () => {
    const stream = new ReadableStream<Uint8Array>({
      start(c) {
        c.enqueue(new TextEncoder().encode('x\ny'));
        c.close();
      },
    });
    const out: string[] = [];
    for await (const l of readLines(stream)) out.push(l);
    expect(out).toEqual(['x', 'y']);
  });
});
