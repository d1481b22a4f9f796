import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.js';
import { loadSpecValidators, type SpecValidators } from './helpers/openapi.js';
import { AUTH, call, gradingBody, jsonl, parseJsonl, requestLine, submissionFor, upload, waitForBatch } from './helpers/emulator-client.js';
import { errorFileLineSchema, httpErrorLineSchema, inputLineSchema, notRunLineSchema, outputLineSchema } from './helpers/jsonl-lines.js';

/**
 * Every response body the emulator sends, checked against the official OpenAPI spec's schemas, and every JSONL
 * line against the documented line formats. Plain HTTP (fetch), so nothing of ours sits between.
 */

let emu: RunningEmulator;
let spec: SpecValidators;
let v1: string;

const ZERO = { validatingMs: 0, inProgressMs: 0, finalizingMs: 0 };

beforeAll(async () => {
  spec = loadSpecValidators(['Batch', 'OpenAIFile', 'ListBatchesResponse', 'ListFilesResponse', 'DeleteFileResponse', 'ErrorResponse', 'CreateChatCompletionResponse']);
  emu = await startEmulator({ timings: ZERO });
  v1 = emu.apiBaseUrl;
});

afterAll(async () => {
  await emu.close();
});

beforeEach(() => emu.reset());

function expectSpec(schema: string, body: unknown): void {
  expect({ schema, errors: spec.errors(schema, body) }).toEqual({ schema, errors: [] });
}

async function createBatch(lines: string[]): Promise<Record<string, unknown> & { id: string; status: string }> {
  const file = await upload(v1, jsonl(lines));
  expect(file.status).toBe(200);
  const created = await call(v1, 'POST', '/batches', { input_file_id: (file.body as { id: string }).id, endpoint: '/v1/chat/completions', completion_window: '24h', metadata: { llm_assess_batch_id: '7' } });
  expect(created.status).toBe(200);
  expectSpec('Batch', created.body);
  return created.body as Record<string, unknown> & { id: string; status: string };
}

describe('the spec validators themselves', () => {
  it('reject a body that breaks the spec', () => {
    expect(spec.errors('Batch', { id: 'batch_1', object: 'batch', status: 'validating' })).not.toEqual([]);
    expect(spec.errors('OpenAIFile', { id: 'file-1', object: 'file', bytes: 'many' })).not.toEqual([]);
    expect(spec.errors('ErrorResponse', { error: { message: 'x' } })).not.toEqual([]);
  });
});

describe('Files', () => {
  it('upload, retrieve, list, content and delete answer in the spec’s shapes', async () => {
    const content = jsonl([requestLine('a-1', gradingBody('Essay one.'))]);
    const up = await upload(v1, content, { extra: { 'expires_after[anchor]': 'created_at', 'expires_after[seconds]': '7200' } });
    expect(up.status).toBe(200);
    expectSpec('OpenAIFile', up.body);
    const file = up.body as { id: string; bytes: number; purpose: string; created_at: number; expires_at: number; filename: string };
    expect(file).toMatchObject({ object: 'file', purpose: 'batch', bytes: Buffer.byteLength(content), filename: 'requests.jsonl', status: 'processed' });
    expect(file.id).toMatch(/^file-/);
    expect(file.expires_at - file.created_at).toBe(7200);

    const got = await call(v1, 'GET', `/files/${file.id}`);
    expectSpec('OpenAIFile', got.body);
    expect(got.body).toEqual(up.body);

    const list = await call(v1, 'GET', '/files?purpose=batch&limit=10');
    expectSpec('ListFilesResponse', list.body);
    expect(list.body).toMatchObject({ object: 'list', first_id: file.id, last_id: file.id, has_more: false });

    const raw = await fetch(`${v1}/files/${file.id}/content`, { headers: AUTH });
    expect(raw.status).toBe(200);
    expect(await raw.text()).toBe(content);

    const del = await call(v1, 'DELETE', `/files/${file.id}`);
    expectSpec('DeleteFileResponse', del.body);
    expect(del.body).toEqual({ id: file.id, object: 'file', deleted: true });
    expect((await call(v1, 'GET', `/files/${file.id}`)).status).toBe(404);
  });

  it('gives batch files the default 30-day expiry', async () => {
    const up = await upload(v1, jsonl([requestLine('a', gradingBody('x'))]));
    const f = up.body as { created_at: number; expires_at: number };
    expect(f.expires_at - f.created_at).toBe(30 * 86_400);
  });

  it('pages lists with first_id, last_id, has_more and after, newest first by default', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 3; i += 1) ids.push(((await upload(v1, jsonl([requestLine(`c${i}`, gradingBody('x'))]))).body as { id: string }).id);
    const page1 = await call(v1, 'GET', '/files?limit=2');
    expectSpec('ListFilesResponse', page1.body);
    expect(page1.body).toMatchObject({ first_id: ids[2], last_id: ids[1], has_more: true });
    const page2 = await call(v1, 'GET', `/files?limit=2&after=${ids[1]}`);
    expect(page2.body).toMatchObject({ first_id: ids[0], last_id: ids[0], has_more: false });
    const asc = await call(v1, 'GET', '/files?order=asc&limit=1');
    expect(asc.body).toMatchObject({ first_id: ids[0] });
  });

  it('answers an empty list with null cursors, as the live API does', async () => {
    const list = await call(v1, 'GET', '/files');
    expectSpec('ListFilesResponse', list.body);
    expect(list.body).toEqual({ object: 'list', data: [], first_id: null, last_id: null, has_more: false });
  });
});

describe('Batches', () => {
  it('goes validating → in_progress → finalizing → completed with the spec’s Batch at every step', async () => {
    const lines = Array.from({ length: 12 }, (_, i) => requestLine(`req-${i}`, gradingBody(submissionFor(i))));
    for (const line of lines) expect(inputLineSchema.safeParse(JSON.parse(line)).success).toBe(true);
    const created = await createBatch(lines);
    expect(created).toMatchObject({ object: 'batch', status: 'validating', endpoint: '/v1/chat/completions', completion_window: '24h', output_file_id: null, error_file_id: null, metadata: { llm_assess_batch_id: '7' } });
    expect(created.id).toMatch(/^batch_/);
    expect(created.expires_at).toBe((created.created_at as number) + 86_400);

    const { last, seen } = await waitForBatch(v1, created.id);
    for (const b of seen) expectSpec('Batch', b);
    expect(last).toMatchObject({ status: 'completed', errors: null, error_file_id: null, request_counts: { total: 12, completed: 12, failed: 0 }, model: 'gpt-4o-mini' });
    for (const k of ['in_progress_at', 'finalizing_at', 'completed_at']) expect(typeof last[k]).toBe('number');
    for (const k of ['failed_at', 'expired_at', 'cancelling_at', 'cancelled_at']) expect(last[k]).toBeNull();
    const usage = last.usage as { input_tokens: number; output_tokens: number; total_tokens: number };
    expect(usage.input_tokens).toBeGreaterThan(0);
    expect(usage.total_tokens).toBe(usage.input_tokens + usage.output_tokens);

    const out = await fetch(`${v1}/files/${String(last.output_file_id)}/content`, { headers: AUTH });
    const outLines = parseJsonl(await out.text());
    expect(outLines).toHaveLength(12);
    for (const line of outLines) {
      expect(outputLineSchema.safeParse(line).error?.issues ?? []).toEqual([]);
      expectSpec('CreateChatCompletionResponse', (line as { response: { body: unknown } }).response.body);
    }
    // Output order is not input order (a fixed shuffle), as with the real API.
    const order = outLines.map((l) => (l as { custom_id: string }).custom_id);
    expect(order).not.toEqual(lines.map((l) => (JSON.parse(l) as { custom_id: string }).custom_id));
    expect([...order].sort()).toEqual(Array.from({ length: 12 }, (_, i) => `req-${i}`).sort());

    const outFile = await call(v1, 'GET', `/files/${String(last.output_file_id)}`);
    expectSpec('OpenAIFile', outFile.body);
    expect(outFile.body).toMatchObject({ purpose: 'batch_output', filename: `batch_${created.id}_output.jsonl` });

    const list = await call(v1, 'GET', '/batches?limit=5');
    expectSpec('ListBatchesResponse', list.body);
    expect(list.body).toMatchObject({ object: 'list', first_id: created.id, has_more: false });
  });

  it('writes HTTP-level failures to the error file with status_code and body.error', async () => {
    emu.setFaults({ lineErrorRate: 0.5, lineErrorStatus: 500 });
    // Line 2 is a real request error: a reasoning model refuses max_tokens.
    const lines = Array.from({ length: 10 }, (_, i) => requestLine(`e-${i}`, gradingBody(submissionFor(i))));
    const { last } = await waitForBatch(v1, (await createBatch(lines)).id);
    expectSpec('Batch', last);
    const counts = last.request_counts as { total: number; completed: number; failed: number };
    expect(counts.total).toBe(10);
    expect(counts.failed).toBeGreaterThan(0);
    expect(counts.completed + counts.failed).toBe(10);
    const errText = await (await fetch(`${v1}/files/${String(last.error_file_id)}/content`, { headers: AUTH })).text();
    const errLines = parseJsonl(errText);
    expect(errLines).toHaveLength(counts.failed);
    for (const line of errLines) {
      expect(httpErrorLineSchema.safeParse(line).error?.issues ?? []).toEqual([]);
      expectSpec('ErrorResponse', (line as { response: { body: unknown } }).response.body);
      expect(line).toMatchObject({ response: { status_code: 500, body: { error: { type: 'server_error' } } } });
    }
  });

  it('answers a request the endpoint rejects with a 400 line, not a batch failure', async () => {
    const lines = [requestLine('ok', gradingBody('An essay.', 'gpt-5-mini')), requestLine('bad', gradingBody('An essay.', 'gpt-5-mini', { max_tokens: 100, max_completion_tokens: undefined }))];
    const { last } = await waitForBatch(v1, (await createBatch(lines)).id);
    expect(last).toMatchObject({ status: 'completed', request_counts: { total: 2, completed: 1, failed: 1 } });
    const errLines = parseJsonl(await (await fetch(`${v1}/files/${String(last.error_file_id)}/content`, { headers: AUTH })).text());
    expect(errLines[0]).toMatchObject({
      custom_id: 'bad',
      response: { status_code: 400, body: { error: { code: 'unsupported_parameter', param: 'max_tokens', type: 'invalid_request_error' } } },
      error: null,
    });
  });

  it('expires with partial output and batch_expired lines in the error file', async () => {
    emu.setFaults({ expireNextBatches: 1, expireCompletedFraction: 0.5 });
    const lines = Array.from({ length: 8 }, (_, i) => requestLine(`x-${i}`, gradingBody(submissionFor(i))));
    const { last, seen } = await waitForBatch(v1, (await createBatch(lines)).id);
    for (const b of seen) expectSpec('Batch', b);
    expect(last).toMatchObject({ status: 'expired', request_counts: { total: 8, completed: 4, failed: 4 } });
    expect(typeof last.expired_at).toBe('number');
    const outLines = parseJsonl(await (await fetch(`${v1}/files/${String(last.output_file_id)}/content`, { headers: AUTH })).text());
    expect(outLines).toHaveLength(4);
    const errLines = parseJsonl(await (await fetch(`${v1}/files/${String(last.error_file_id)}/content`, { headers: AUTH })).text());
    expect(errLines).toHaveLength(4);
    for (const line of errLines) {
      expect(notRunLineSchema.safeParse(line).error?.issues ?? []).toEqual([]);
      expect(line).toMatchObject({ response: null, error: { code: 'batch_expired', message: 'This request could not be executed before the completion window expired.' } });
    }
  });

  it('fails validation with errors.data[] {code, message, param, line}', async () => {
    const lines = [requestLine('dup', gradingBody('a')), requestLine('dup', gradingBody('b')), '{not json', requestLine('m', gradingBody('c', 'gpt-4o'))];
    const { last } = await waitForBatch(v1, (await createBatch(lines)).id);
    expectSpec('Batch', last);
    expect(last).toMatchObject({ status: 'failed', output_file_id: null, error_file_id: null, request_counts: { total: 0, completed: 0, failed: 0 } });
    expect(typeof last.failed_at).toBe('number');
    expect((last.errors as { data: unknown[] }).data).toEqual([
      expect.objectContaining({ code: 'duplicate_custom_id', line: 2, param: 'custom_id' }),
      { code: 'invalid_json_line', message: 'This line is not parseable as valid JSON.', param: null, line: 3 },
      expect.objectContaining({ code: 'mismatched_model', line: 4 }),
    ]);
  });

  it('cancels: cancelling, then cancelled with the unfinished lines as batch_cancelled', async () => {
    emu.setFaults({ timings: { validatingMs: 0, inProgressMs: 60_000, finalizingMs: 20 } });
    const lines = Array.from({ length: 5 }, (_, i) => requestLine(`k-${i}`, gradingBody(submissionFor(i))));
    const created = await createBatch(lines);
    await waitForBatch(v1, created.id, (b) => b.status === 'in_progress');
    const cancelled = await call(v1, 'POST', `/batches/${created.id}/cancel`);
    expectSpec('Batch', cancelled.body);
    expect(cancelled.body).toMatchObject({ status: 'cancelling' });
    const { last } = await waitForBatch(v1, created.id);
    expectSpec('Batch', last);
    expect(last).toMatchObject({ status: 'cancelled', output_file_id: null, request_counts: { total: 5, completed: 0, failed: 5 } });
    const errLines = parseJsonl(await (await fetch(`${v1}/files/${String(last.error_file_id)}/content`, { headers: AUTH })).text());
    expect(errLines).toHaveLength(5);
    for (const line of errLines) {
      expect(errorFileLineSchema.safeParse(line).success).toBe(true);
      expect(line).toMatchObject({ response: null, error: { code: 'batch_cancelled' } });
    }
    const again = await call(v1, 'POST', `/batches/${created.id}/cancel`);
    expect(again.status).toBe(400);
    expectSpec('ErrorResponse', again.body);
  });
});

describe('Chat completions', () => {
  it('answers in the spec’s CreateChatCompletionResponse, with the model’s dated snapshot', async () => {
    const res = await call(v1, 'POST', '/chat/completions', gradingBody(submissionFor(3)));
    expect(res.status).toBe(200);
    expectSpec('CreateChatCompletionResponse', res.body);
    expect(res.body).toMatchObject({ object: 'chat.completion', model: 'gpt-4o-mini-2024-07-18', choices: [{ finish_reason: 'stop', message: { role: 'assistant', refusal: null } }] });
    expect(res.headers.get('x-request-id')).toMatch(/^req_/);
  });
});

describe('errors use the OpenAI envelope', () => {
  const cases: Array<[string, () => Promise<{ status: number; body: unknown }>, number, Record<string, unknown>]> = [
    ['no API key', () => call(v1, 'GET', '/files', undefined, {}), 401, { type: 'invalid_request_error' }],
    ['unknown file', () => call(v1, 'GET', '/files/file-nope'), 404, { message: 'No such File object: file-nope', param: 'id' }],
    ['unknown file content', () => call(v1, 'GET', '/files/file-nope/content'), 404, { param: 'id' }],
    ['delete unknown file', () => call(v1, 'DELETE', '/files/file-nope'), 404, { message: 'No such File object: file-nope', type: 'invalid_request_error', param: 'id', code: null }],
    ['unknown batch', () => call(v1, 'GET', '/batches/batch_nope'), 404, { message: 'No such Batch object: batch_nope' }],
    ['cancel unknown batch', () => call(v1, 'POST', '/batches/batch_nope/cancel'), 404, {}],
    ['unknown route', () => call(v1, 'GET', '/assistants'), 404, { message: 'Invalid URL (GET /v1/assistants)' }],
    ['body that is not JSON', () => call(v1, 'POST', '/chat/completions', '{"model":'), 400, { message: expect.stringMatching(/could not parse the JSON body/) }],
    ['unknown model', () => call(v1, 'POST', '/chat/completions', { model: 'gpt-9', messages: [{ role: 'user', content: 'hi' }] }), 404, { code: 'model_not_found' }],
    ['batch for a missing file', () => call(v1, 'POST', '/batches', { input_file_id: 'file-nope', endpoint: '/v1/chat/completions', completion_window: '24h' }), 400, { param: 'input_file_id' }],
    ['batch without input_file_id', () => call(v1, 'POST', '/batches', { endpoint: '/v1/chat/completions', completion_window: '24h' }), 400, { message: "Missing required parameter: 'input_file_id'." }],
    ['bad list limit', () => call(v1, 'GET', '/batches?limit=500'), 400, { param: 'limit' }],
  ];
  for (const [name, run, status, fields] of cases) {
    it(name, async () => {
      const res = await run();
      expect(res.status).toBe(status);
      expectSpec('ErrorResponse', res.body);
      expect((res.body as { error: unknown }).error).toMatchObject(fields);
    });
  }
});
