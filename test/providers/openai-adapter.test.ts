import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { responseFormatTokens } from '../../src/emulator/chat/tokens.js';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.js';
import type { GradingRequest } from '../../src/grading/request.js';
import { gradingResultSchema } from '../../src/grading/result.schema.js';
import { customIdFor, parseCustomId } from '../../src/providers/custom-id.js';
import { ProviderError } from '../../src/providers/errors.js';
import { LOCAL_BATCH_ID_KEY, OpenAIBatchProvider } from '../../src/providers/openai/openai-provider.js';
import { actualCostMicros } from '../../src/providers/pricing.js';
import type { BatchResultLine, BatchSnapshot } from '../../src/providers/provider.js';
import { countChatTokens } from '../../src/providers/tokens.js';
import { evaluateAnswer } from '../../src/grading/evaluate.js';
import { builtGradingRequest, gradingRequest, RUBRIC } from './helpers/requests.js';

/**
 * The OpenAI adapter through the real `openai` SDK, over real HTTP, against the emulator: one test per failure
 * mode the reference lists, plus the happy path, cancel and the real-time call.
 */

let emu: RunningEmulator;
let provider: OpenAIBatchProvider;

beforeAll(async () => {
  emu = await startEmulator({ timings: { validatingMs: 0, inProgressMs: 0, finalizingMs: 0 } });
  provider = new OpenAIBatchProvider({ apiKey: 'sk-test', baseURL: emu.apiBaseUrl, retry: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 5 } });
});

afterAll(async () => {
  await emu.close();
});

/**
 * Billed prompt tokens beyond the tool's estimate of the messages (src/providers/tokens.ts), which the emulator
 * counts separately (src/emulator/chat/tokens.ts). OpenAI documents that a response schema adds tokens a local
 * count misses, not how many, so the surplus must be positive and is compared with the emulator's assumed measure:
 * a wrong message count on either side changes it.
 */
function schemaSurplus(billed: number, req: GradingRequest): number {
  const surplus = billed - countChatTokens(req.model, req.messages);
  expect(surplus).toBeGreaterThan(0);
  return surplus;
}

beforeEach(() => emu.reset());

async function waitFor(id: string, until: (s: BatchSnapshot) => boolean = (s) => s.terminal, timeoutMs = 8000): Promise<BatchSnapshot> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const snapshot = await provider.getBatch(id);
    if (until(snapshot)) return snapshot;
    if (Date.now() > deadline) throw new Error(`batch ${id} still ${snapshot.providerStatus}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

async function collect(fileId: string | null): Promise<BatchResultLine[]> {
  if (!fileId) return [];
  const lines: BatchResultLine[] = [];
  for await (const line of provider.streamResults(fileId)) lines.push(line);
  return lines;
}

async function submit(n: number, options: Parameters<typeof gradingRequest>[1] = {}) {
  const requests = Array.from({ length: n }, (_, i) => gradingRequest(i + 1, options));
  async function* lines() {
    for (const r of requests) yield provider.buildRequestLine(r);
  }
  const created = await provider.createBatch({ lines: lines(), metadata: { localBatchId: 42, course: 'HIST-101' } });
  return { requests, created };
}

describe('happy path', () => {
  it('uploads, creates with our batch id as metadata, completes, and streams every result back to its queue item', async () => {
    const { requests, created } = await submit(20);
    expect(created.requestCount).toBe(20);
    expect(created.snapshot).toMatchObject({ status: 'submitted', providerStatus: 'validating', terminal: false });
    expect(created.snapshot.metadata).toEqual({ [LOCAL_BATCH_ID_KEY]: '42', course: 'HIST-101' });

    const done = await waitFor(created.providerBatchId);
    expect(done).toMatchObject({ status: 'completed', providerStatusKnown: true, terminal: true, problem: null, errorFileId: null, requestCounts: { total: 20, completed: 20, failed: 0 } });
    expect(done.finishedAt).toBeInstanceOf(Date);

    const results = await collect(done.outputFileId);
    expect(results).toHaveLength(20);
    const byId = new Map(requests.map((r) => [r.customId, r]));
    let batchCost = 0;
    for (const line of results) {
      if (line.kind !== 'succeeded') throw new Error(`unexpected ${line.kind}`);
      const req = byId.get(line.customId);
      if (!req) throw new Error(`no request has custom_id ${line.customId}`);
      expect(parseCustomId(line.customId)).toMatchObject({ attempt: 1 });
      // Usage is our message count (src/providers/tokens.ts) plus the schema tokens the emulator bills on top,
      // which the tool does not estimate (see schemaSurplus).
      expect(schemaSurplus(line.usage.inputTokens, req)).toBe(responseFormatTokens('gpt-4o-mini', req.responseFormat));
      const parsed = gradingResultSchema(RUBRIC, 10).safeParse(JSON.parse(line.content ?? 'null'));
      expect(parsed.success).toBe(true);
      batchCost += actualCostMicros(line.usage, 'gpt-4o-mini', 'batch');
    }
    expect(done.usage?.inputTokens).toBe(results.reduce((acc, l) => acc + (l.kind === 'succeeded' ? l.usage.inputTokens : 0), 0));
    expect(batchCost).toBeGreaterThan(0);
  });

  it('matches results by custom id, because output order is not input order', async () => {
    const { requests, created } = await submit(15);
    const done = await waitFor(created.providerBatchId);
    const order = (await collect(done.outputFileId)).map((l) => l.customId);
    expect(order).not.toEqual(requests.map((r) => r.customId));
    expect([...order].sort()).toEqual(requests.map((r) => r.customId).sort());
  });
});

describe('a model without Structured Outputs (gpt-4)', () => {
  it('grades a batch whose lines carry no response format: every answer is JSON by instruction, some fenced, all usable', async () => {
    const requests = Array.from({ length: 30 }, (_, i) => builtGradingRequest(i + 1, 'gpt-4'));
    const created = await provider.createBatch({ lines: requests.map((r) => provider.buildRequestLine(r)), metadata: { localBatchId: 43 } });
    const done = await waitFor(created.providerBatchId);
    expect(done).toMatchObject({ status: 'completed', requestCounts: { total: 30, completed: 30, failed: 0 } });
    const results = await collect(done.outputFileId);
    expect(results).toHaveLength(30);
    const byId = new Map(requests.map((r) => [r.customId, r]));
    let fenced = 0;
    for (const line of results) {
      if (line.kind !== 'succeeded') throw new Error(`unexpected ${line.kind}`);
      const req = byId.get(line.customId)!;
      expect(line.model).toBe('gpt-4-0613');
      // No response format: billed exactly the messages, which carry the schema.
      expect(line.usage.inputTokens).toBe(countChatTokens('gpt-4', req.messages));
      if (line.content!.startsWith('```json\n')) fenced++;
      const ev = evaluateAnswer({ content: line.content, refusal: line.refusal, finishReason: line.finishReason }, RUBRIC, 10);
      expect(ev.result).not.toBeNull();
      expect(ev.flags.map((f) => f.code)).not.toContain('malformed_json');
    }
    // The emulator fences about 1 answer in 10 (deterministically per request): both shapes came back.
    expect(fenced).toBeGreaterThan(0);
    expect(fenced).toBeLessThan(30);
  });

  it('answers a real-time call with the dated snapshot and a JSON answer matching the schema it was told', async () => {
    const req = builtGradingRequest(7, 'gpt-4');
    const answer = await provider.realtimeGrade(req);
    expect(answer).toMatchObject({ finishReason: 'stop', refusal: null, model: 'gpt-4-0613' });
    expect(answer.usage.inputTokens).toBe(countChatTokens('gpt-4', req.messages));
    const content = (answer.content ?? '').replace(/^```json\n|\n```$/g, '');
    expect(gradingResultSchema(RUBRIC, 10).safeParse(JSON.parse(content)).success).toBe(true);
  });
});

describe('failure modes', () => {
  it('batch failed after a successful create (token_limit_exceeded in errors.data)', async () => {
    emu.setFaults({ failNextBatches: 1 });
    const { created } = await submit(3);
    expect(created.snapshot.terminal).toBe(false);
    const done = await waitFor(created.providerBatchId);
    expect(done).toMatchObject({ status: 'failed', outputFileId: null, errorFileId: null });
    expect(done.errors).toEqual([expect.objectContaining({ code: 'token_limit_exceeded', line: null })]);
    expect(done.problem).toMatch(/^OpenAI rejected the batch: Enqueued token limit reached for gpt-4o-mini .*\(token_limit_exceeded\)/);
  });

  it('batch failed validation: errors name the code and the line', async () => {
    const line = provider.buildRequestLine(gradingRequest(1));
    const created = await provider.createBatch({ lines: [line, line, '{"custom_id": oops'], metadata: { localBatchId: 1 } });
    const done = await waitFor(created.providerBatchId);
    expect(done.status).toBe('failed');
    expect(done.errors.map((e) => [e.code, e.line])).toEqual([
      ['duplicate_custom_id', 2],
      ['invalid_json_line', 3],
    ]);
    expect(done.problem).toMatch(/duplicate.*line 2.*not parseable as valid JSON.*line 3/);
  });

  it('long finalizing: reported as still processing, with the provider word and since when', async () => {
    emu.setFaults({ stuck: { phase: 'finalizing', batches: 1, forMs: 300 } });
    const { created } = await submit(2);
    const finalizing = await waitFor(created.providerBatchId, (s) => s.providerStatus === 'finalizing');
    expect(finalizing).toMatchObject({ status: 'processing', terminal: false, providerStatusKnown: true, outputFileId: null, problem: null });
    expect(finalizing.statusSince).toBeInstanceOf(Date);
    expect(finalizing.requestCounts).toEqual({ total: 2, completed: 2, failed: 0 });
    const done = await waitFor(created.providerBatchId);
    expect(done.status).toBe('completed');
  });

  it('expired with partial output: finished lines in the output file, the rest not run (batch_expired)', async () => {
    emu.setFaults({ expireNextBatches: 1, expireCompletedFraction: 0.4 });
    const { created } = await submit(10);
    const done = await waitFor(created.providerBatchId);
    expect(done).toMatchObject({ status: 'expired', requestCounts: { total: 10, completed: 4, failed: 6 } });
    expect(done.problem).toMatch(/did not finish within OpenAI's 24-hour window: 4 of 10 requests succeeded/);
    const ok = await collect(done.outputFileId);
    const notRun = await collect(done.errorFileId);
    expect(ok.map((l) => l.kind)).toEqual(Array(4).fill('succeeded'));
    expect(notRun).toHaveLength(6);
    for (const l of notRun) {
      expect(l).toMatchObject({ kind: 'not_run', code: 'batch_expired', message: 'This request could not be executed before the completion window expired.' });
    }
    expect(new Set([...ok, ...notRun].map((l) => l.customId)).size).toBe(10);
  });

  it('completed with zero successes: null output file, every request in the error file', async () => {
    emu.setFaults({ lineErrorRate: 1, lineErrorStatus: 400 });
    const { created } = await submit(4);
    const done = await waitFor(created.providerBatchId);
    expect(done).toMatchObject({ status: 'completed', outputFileId: null, requestCounts: { total: 4, completed: 0, failed: 4 } });
    expect(done.errorFileId).not.toBeNull();
    expect(done.problem).toBe('No request in the batch succeeded: all 4 failed (details in the error file).');
    const failed = await collect(done.errorFileId);
    expect(failed).toHaveLength(4);
    for (const l of failed) expect(l).toMatchObject({ kind: 'errored', statusCode: 400, retryable: false, code: 'emulator_injected_fault' });
  });

  it('server errors on lines are marked retryable', async () => {
    emu.setFaults({ lineErrorRate: 1, lineErrorStatus: 500 });
    const { created } = await submit(2);
    const done = await waitFor(created.providerBatchId);
    for (const l of await collect(done.errorFileId)) expect(l).toMatchObject({ kind: 'errored', statusCode: 500, retryable: true });
  });

  it('an unknown status value is treated as still running, with the raw word kept', async () => {
    emu.setFaults({ unknownStatus: { status: 'queued_for_capacity', batches: 1 }, timings: { validatingMs: 0, inProgressMs: 400, finalizingMs: 0 } });
    const { created } = await submit(2);
    const odd = await waitFor(created.providerBatchId, (s) => s.providerStatus === 'queued_for_capacity');
    expect(odd).toMatchObject({ status: 'processing', providerStatusKnown: false, terminal: false, statusSince: null });
    expect(odd.problem).toMatch(/does not know \("queued_for_capacity"\); it is treated as still running/);
    expect((await waitFor(created.providerBatchId)).status).toBe('completed');
  });

  it('upload answered 429 twice: retried with backoff, then succeeds', async () => {
    emu.setFaults({ uploadFailures: { count: 2, status: 429 } });
    const { created } = await submit(1);
    expect(created.inputFileId).toMatch(/^file-/);
    expect(emu.getFaults().uploadFailures).toBeNull();
  });

  it('upload answered 500 every time: gives up after the configured attempts with a retryable error', async () => {
    emu.setFaults({ uploadFailures: { count: 5, status: 500 } });
    const failure = await submit(1).catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(ProviderError);
    expect(failure).toMatchObject({ retryable: true, code: 'server_error', httpStatus: 500 });
    expect((failure as Error).message).toBe(
      'OpenAI refused to upload the batch file: The server had an error while processing your request. Sorry about that! (HTTP 500). Gave up after 3 attempts.',
    );
    // Exactly three attempts reached the server.
    expect(emu.getFaults().uploadFailures).toEqual({ count: 2, status: 500 });
    // Nothing was created.
    expect(emu.emulator.context.store.batches.size).toBe(0);
  });

  it('create answered 500 after the batch was made (a lost response): the retry adopts it instead of starting a twin', async () => {
    emu.setFaults({ createBatchFailures: { count: 1, status: 500, created: true } });
    const { created } = await submit(2);
    expect(emu.emulator.context.store.batches.size).toBe(1);
    expect(emu.emulator.context.store.batches.has(created.providerBatchId)).toBe(true);
    expect((await waitFor(created.providerBatchId)).status).toBe('completed');
  });

  it('create refused with 429 every time: gives up and deletes the uploaded file', async () => {
    emu.setFaults({ createBatchFailures: { count: 5, status: 429 } });
    await expect(submit(1)).rejects.toMatchObject({ retryable: true, code: 'rate_limited', httpStatus: 429 });
    expect(emu.emulator.context.store.batches.size).toBe(0);
    expect(emu.emulator.context.store.files.size).toBe(0);
  });

  it('refuses, before uploading, lines for two models (one model per batch)', async () => {
    const lines = [provider.buildRequestLine(gradingRequest(1)), provider.buildRequestLine(gradingRequest(2, { model: 'gpt-4o' }))];
    await expect(provider.createBatch({ lines, metadata: { localBatchId: 1 } })).rejects.toMatchObject({
      code: 'invalid_request',
      retryable: false,
      message: 'Request line 2 uses model "gpt-4o" but earlier lines use "gpt-4o-mini": OpenAI accepts one model per batch.',
    });
    expect(emu.emulator.context.store.files.size).toBe(0);
  });

  it('reports an unknown batch as a permanent not_found error an admin can read', async () => {
    await expect(provider.getBatch('batch_missing')).rejects.toMatchObject({
      code: 'not_found',
      retryable: false,
      httpStatus: 404,
      message: 'OpenAI refused to read batch batch_missing: No such Batch object: batch_missing (HTTP 404).',
    });
  });

  it('refuses metadata OpenAI would refuse', async () => {
    await expect(provider.createBatch({ lines: [provider.buildRequestLine(gradingRequest(1))], metadata: { localBatchId: 1, note: 'x'.repeat(513) } })).rejects.toThrow(
      /Batch metadata is not accepted by OpenAI/,
    );
  });
});

describe('cancel', () => {
  it('cancelling, then cancelled: lines never run come back as not_run (batch_cancelled)', async () => {
    emu.setFaults({ timings: { validatingMs: 0, inProgressMs: 60_000, finalizingMs: 30 } });
    const { created } = await submit(3);
    await waitFor(created.providerBatchId, (s) => s.providerStatus === 'in_progress');
    const cancelling = await provider.cancelBatch(created.providerBatchId);
    expect(cancelling).toMatchObject({ status: 'processing', providerStatus: 'cancelling', terminal: false });
    const done = await waitFor(created.providerBatchId);
    expect(done).toMatchObject({ status: 'cancelled', outputFileId: null, requestCounts: { total: 3, completed: 0, failed: 3 } });
    expect(done.problem).toMatch(/^The batch was cancelled: 0 of 3/);
    const lines = await collect(done.errorFileId);
    expect(lines.map((l) => [l.kind, l.kind === 'not_run' ? l.code : null])).toEqual(Array(3).fill(['not_run', 'batch_cancelled']));
  });

  it('cancelling a batch that already finished returns how it ended instead of failing', async () => {
    const { created } = await submit(1);
    await waitFor(created.providerBatchId);
    const snapshot = await provider.cancelBatch(created.providerBatchId);
    expect(snapshot.status).toBe('completed');
  });
});

describe('files', () => {
  it('deletes a file; deleting it again is not an error', async () => {
    const { created } = await submit(1);
    await provider.deleteFile(created.inputFileId);
    await expect(provider.deleteFile(created.inputFileId)).resolves.toBeUndefined();
  });
});

describe('real-time grading', () => {
  it('answers one request with content, usage and latency', async () => {
    const req = gradingRequest(7);
    const answer = await provider.realtimeGrade(req);
    expect(answer).toMatchObject({ finishReason: 'stop', refusal: null, model: 'gpt-4o-mini-2024-07-18' });
    expect(answer.requestId).toMatch(/^req_/);
    expect(Number.isInteger(answer.latencyMs)).toBe(true);
    expect(schemaSurplus(answer.usage.inputTokens, req)).toBe(responseFormatTokens('gpt-4o-mini', req.responseFormat));
    expect(gradingResultSchema(RUBRIC, 10).safeParse(JSON.parse(answer.content ?? 'null')).success).toBe(true);
  });

  it('reports the call\'s latency: what a slow network adds, and no more than the caller waited', async () => {
    // A proxy that holds each request 150 ms before passing it to the emulator.
    const slow = http.createServer((req, res) => {
      setTimeout(() => {
        const upstream = http.request(new URL(req.url!, emu.url), { method: req.method, headers: req.headers }, (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        });
        req.pipe(upstream);
      }, 150);
    });
    await new Promise<void>((resolve) => slow.listen(0, '127.0.0.1', resolve));
    try {
      const slowProvider = new OpenAIBatchProvider({ apiKey: 'sk-test', baseURL: `http://127.0.0.1:${(slow.address() as AddressInfo).port}/v1`, retry: { maxAttempts: 1, baseDelayMs: 1, maxDelayMs: 1 } });
      const started = performance.now();
      const answer = await slowProvider.realtimeGrade(gradingRequest(9));
      const waited = performance.now() - started;
      expect(answer.latencyMs).toBeGreaterThanOrEqual(145);
      expect(answer.latencyMs).toBeLessThanOrEqual(Math.ceil(waited));
    } finally {
      slow.closeAllConnections();
      await new Promise((resolve) => slow.close(resolve));
    }
  });

  it('is deterministic: the same request gets the same answer', async () => {
    const req = gradingRequest(8);
    const [a, b] = [await provider.realtimeGrade(req), await provider.realtimeGrade(req)];
    expect(a.content).toBe(b.content);
    expect(a.usage).toEqual(b.usage);
  });

  it('omits temperature for reasoning models, which the API would refuse', async () => {
    const answer = await provider.realtimeGrade(gradingRequest(9, { model: 'gpt-5-mini' }));
    expect(answer.usage.reasoningTokens).toBeGreaterThan(0);
    expect(answer.model).toBe('gpt-5-mini-2025-08-07');
  });

  it('retries a 429 and succeeds', async () => {
    emu.setFaults({ chatFailures: { count: 1, status: 429 } });
    await expect(provider.realtimeGrade(gradingRequest(10))).resolves.toMatchObject({ finishReason: 'stop' });
  });

  it('gives up on repeated 503s with a retryable error', async () => {
    emu.setFaults({ chatFailures: { count: 3, status: 503 } });
    await expect(provider.realtimeGrade(gradingRequest(11))).rejects.toMatchObject({ retryable: true, code: 'server_error', httpStatus: 503 });
  });

  it('passes refusals, truncated JSON and out-of-range scores through for the caller to flag', async () => {
    emu.setFaults({ refusalRate: 1 });
    expect(await provider.realtimeGrade(gradingRequest(12))).toMatchObject({ content: null, refusal: expect.stringMatching(/can't help/) });
    emu.setFaults({ malformedOutputRate: 1 });
    const cut = await provider.realtimeGrade(gradingRequest(12));
    expect(cut.finishReason).toBe('length');
    expect(() => JSON.parse(cut.content ?? '')).toThrow();
    emu.setFaults({ outOfRangeOutputRate: 1 });
    const high = await provider.realtimeGrade(gradingRequest(12));
    const parsed = gradingResultSchema(RUBRIC, 10).safeParse(JSON.parse(high.content ?? 'null'));
    expect(parsed.success).toBe(false);
  });

  it('reports a request the API rejects as a permanent error', async () => {
    await expect(provider.realtimeGrade({ ...gradingRequest(13), model: 'gpt-9' })).rejects.toMatchObject({
      retryable: false,
      code: 'not_found',
      providerCode: 'model_not_found',
      message: 'OpenAI refused to grade in real time: The model `gpt-9` does not exist or you do not have access to it. (HTTP 404, model_not_found).',
    });
  });
});

describe('custom ids', () => {
  it('round-trip queue item and attempt', () => {
    expect(parseCustomId(customIdFor(123, 2))).toEqual({ queueItemId: 123, attempt: 2 });
  });
});
