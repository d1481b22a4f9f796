import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.js';
import { call, gradingBody, jsonl, parseJsonl, requestLine, upload, waitForBatch } from './helpers/emulator-client.js';

/**
 * Input checks with the API's codes: at upload (400s), at batch creation (400s), and while a batch validates
 * (the batch fails with errors.data[]). Limits are lowered so "too many" and "too large" cost nothing.
 */

let emu: RunningEmulator;
let v1: string;

beforeAll(async () => {
  emu = await startEmulator({ timings: { validatingMs: 0, inProgressMs: 0, finalizingMs: 0 }, limits: { maxRequestsPerBatch: 3, maxBatchFileBytes: 20_000, maxFileBytes: 30_000 } });
  v1 = emu.apiBaseUrl;
});

afterAll(async () => {
  await emu.close();
});

beforeEach(() => emu.reset());

const line = (id: string, model = 'gpt-4o-mini') => requestLine(id, { model, messages: [{ role: 'user', content: `Grade ${id}` }] });

async function batchErrors(content: string): Promise<Array<Record<string, unknown>>> {
  const file = (await upload(v1, content)).body as { id: string };
  const created = await call(v1, 'POST', '/batches', { input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' });
  expect(created.status).toBe(200);
  const { last } = await waitForBatch(v1, (created.body as { id: string }).id);
  expect(last.status).toBe('failed');
  return (last.errors as { data: Array<Record<string, unknown>> }).data;
}

describe('batch validation fails the batch with the documented codes', () => {
  it('invalid_json_line', async () => {
    expect(await batchErrors(jsonl([line('a'), '{"custom_id": "b",']))).toEqual([{ code: 'invalid_json_line', message: 'This line is not parseable as valid JSON.', param: null, line: 2 }]);
    expect(await batchErrors(jsonl(['[1, 2]']))).toEqual([expect.objectContaining({ code: 'invalid_json_line', line: 1 })]);
  });

  it('duplicate_custom_id', async () => {
    expect(await batchErrors(jsonl([line('a'), line('a')]))).toEqual([
      {
        code: 'duplicate_custom_id',
        message: "The custom_id 'a' for this request is a duplicate of another request. The custom_id parameter must be unique for each request in a batch.",
        param: 'custom_id',
        line: 2,
      },
    ]);
  });

  it('mismatched_model', async () => {
    expect(await batchErrors(jsonl([line('a'), line('b', 'gpt-4o')]))).toEqual([
      {
        code: 'mismatched_model',
        message: "The model 'gpt-4o' for this request does not match the rest of the batch. Each batch must contain requests for a single model.",
        param: 'body.model',
        line: 2,
      },
    ]);
  });

  it('invalid_url', async () => {
    const wrong = requestLine('a', { model: 'gpt-4o-mini', messages: [] }, '/v1/embeddings');
    expect(await batchErrors(jsonl([wrong]))).toEqual([expect.objectContaining({ code: 'invalid_url', param: 'url', line: 1 })]);
  });

  it('model_not_found', async () => {
    expect(await batchErrors(jsonl([line('a', 'gpt-9')]))).toEqual([
      { code: 'model_not_found', message: "The model 'gpt-9' does not exist or you do not have access to it.", param: 'body.model', line: 1 },
    ]);
  });

  it('missing_required_parameter and a wrong method', async () => {
    const errors = await batchErrors(
      jsonl([JSON.stringify({ custom_id: 'a', method: 'POST', url: '/v1/chat/completions' }), JSON.stringify({ custom_id: 'b', method: 'GET', url: '/v1/chat/completions', body: {} }), JSON.stringify({ custom_id: 'c', method: 'POST', url: '/v1/chat/completions', body: {} })]),
    );
    expect(errors).toEqual([
      expect.objectContaining({ code: 'missing_required_parameter', param: 'body', line: 1 }),
      expect.objectContaining({ code: 'invalid_value', param: 'method', line: 2 }),
      expect.objectContaining({ code: 'missing_required_parameter', param: 'body.model', line: 3 }),
    ]);
  });

  it('too many requests for one batch', async () => {
    expect(await batchErrors(jsonl(['a', 'b', 'c', 'd'].map((id) => line(id))))).toEqual([
      { code: 'too_many_tasks', message: 'The batch input file contains 4 requests; a batch may contain at most 3.', param: null, line: null },
    ]);
  });

  it('an empty file', async () => {
    expect(await batchErrors('\n')).toEqual([{ code: 'empty_file', message: 'The batch input file is empty.', param: null, line: null }]);
  });

  it('(not a batch failure) a batch for a deleted file is refused at creation', async () => {
    const file = (await upload(v1, jsonl([line('a')]))).body as { id: string };
    await call(v1, 'DELETE', `/files/${file.id}`);
    const created = await call(v1, 'POST', '/batches', { input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' });
    expect(created.status).toBe(400);
  });
});

describe('upload errors', () => {
  const cases: Array<[string, () => ReturnType<typeof upload>, Record<string, unknown>]> = [
    ['a batch file over the size limit', () => upload(v1, 'x'.repeat(20_001)), { message: 'File is too large.' }],
    ['a batch file that is not .jsonl', () => upload(v1, line('a'), { filename: 'requests.csv' }), { message: 'Invalid file format for Batch API. Must be .jsonl', param: 'file' }],
    ['an unknown purpose', () => upload(v1, line('a'), { purpose: 'homework' }), { param: 'purpose', message: expect.stringMatching(/'homework' is not one of/) }],
    ['no purpose', () => upload(v1, line('a'), { purpose: '' }), { message: "Missing required parameter: 'purpose'." }],
    ['a bad expires_after', () => upload(v1, line('a'), { extra: { 'expires_after[anchor]': 'created_at', 'expires_after[seconds]': '60' } }), { param: 'expires_after.seconds' }],
  ];
  for (const [name, run, error] of cases) {
    it(`refuses ${name} with a 400`, async () => {
      const res = await run();
      expect(res.status).toBe(400);
      expect((res.body as { error: unknown }).error).toMatchObject(error);
    });
  }

  it('refuses any file over the general size limit', async () => {
    const res = await upload(v1, 'x'.repeat(30_001), { purpose: 'user_data', filename: 'notes.txt' });
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ error: { message: 'File is too large.' } });
  });

  it('refuses a file sent under another field name', async () => {
    const form = new FormData();
    form.append('purpose', 'batch');
    form.append('document', new Blob(['{}']), 'a.jsonl');
    const res = await fetch(`${v1}/files`, { method: 'POST', headers: { authorization: 'Bearer k' }, body: form });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: { message: expect.stringMatching(/^Invalid multipart upload/), param: 'document' } });
  });

  it('refuses an upload with no file', async () => {
    const form = new FormData();
    form.append('purpose', 'batch');
    const res = await fetch(`${v1}/files`, { method: 'POST', headers: { authorization: 'Bearer k' }, body: form });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: { message: "Missing required parameter: 'file'.", param: 'file' } });
  });

  it('answers the injected 429 with Retry-After, and counts the failures down', async () => {
    emu.setFaults({ uploadFailures: { count: 2, status: 429 } });
    const first = await upload(v1, line('a'));
    expect(first.status).toBe(429);
    expect(first.headers.get('retry-after')).toBe('1');
    expect(first.body).toMatchObject({ error: { type: 'requests', code: 'rate_limit_exceeded' } });
    expect(emu.getFaults().uploadFailures).toEqual({ count: 1, status: 429 });
    expect((await upload(v1, line('a'))).status).toBe(429);
    expect((await upload(v1, line('a'))).status).toBe(200);
  });
});

describe('batch creation errors', () => {
  async function create(body: Record<string, unknown>) {
    const file = (await upload(v1, jsonl([line('a')]))).body as { id: string };
    return call(v1, 'POST', '/batches', { input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h', ...body });
  }

  it('refuses endpoints the emulator does not run, and unknown ones', async () => {
    expect((await create({ endpoint: '/v1/embeddings' })).body).toMatchObject({ error: { param: 'endpoint', code: 'unsupported_value' } });
    expect((await create({ endpoint: '/v2/chat' })).body).toMatchObject({ error: { param: 'endpoint', code: 'invalid_value' } });
  });

  it('refuses any completion window but 24h', async () => {
    const res = await create({ completion_window: '48h' });
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ error: { param: 'completion_window' } });
  });

  it('refuses metadata over the limits', async () => {
    const many = Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`k${i}`, 'v']));
    expect((await create({ metadata: many })).status).toBe(400);
    expect((await create({ metadata: { k: 'v'.repeat(513) } })).status).toBe(400);
  });

  it('refuses a file not uploaded for batch', async () => {
    const form = new FormData();
    form.append('purpose', 'user_data');
    form.append('file', new Blob(['hello']), 'notes.txt');
    const file = (await (await fetch(`${v1}/files`, { method: 'POST', headers: { authorization: 'Bearer k' }, body: form })).json()) as { id: string };
    const res = await call(v1, 'POST', '/batches', { input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' });
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ error: { message: expect.stringMatching(/purpose 'batch'/) } });
  });

  it('answers injected create failures', async () => {
    emu.setFaults({ createBatchFailures: { count: 1, status: 429 } });
    const res = await create({});
    expect(res.status).toBe(429);
    expect(emu.emulator.context.store.batches.size).toBe(0);
  });
});

describe('batches for gpt-4 and gpt-3.5-turbo', () => {
  it('run: a plain line is answered with the dated snapshot, a JSON-schema line with the API’s 400 in the error file', async () => {
    for (const [model, snapshot] of [['gpt-4', 'gpt-4-0613'], ['gpt-3.5-turbo', 'gpt-3.5-turbo-0125']] as const) {
      const file = (await upload(v1, jsonl([line('plain', model), requestLine('graded', gradingBody('x', model))]))).body as { id: string };
      const created = await call(v1, 'POST', '/batches', { input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' });
      const { last } = await waitForBatch(v1, (created.body as { id: string }).id);
      expect([model, last.status, last.request_counts]).toEqual([model, 'completed', { total: 2, completed: 1, failed: 1 }]);
      const output = parseJsonl((await call(v1, 'GET', `/files/${String(last.output_file_id)}/content`)).text);
      expect(output).toEqual([expect.objectContaining({ custom_id: 'plain', response: expect.objectContaining({ status_code: 200, body: expect.objectContaining({ model: snapshot }) }) })]);
      const errors = parseJsonl((await call(v1, 'GET', `/files/${String(last.error_file_id)}/content`)).text);
      expect(errors).toEqual([
        expect.objectContaining({
          custom_id: 'graded',
          response: expect.objectContaining({ status_code: 400, body: { error: expect.objectContaining({ param: 'response_format', message: expect.stringMatching(/^Invalid parameter: 'response_format' of type 'json_schema' is not supported with this model\./) }) } }),
        }),
      ]);
    }
  });
});
