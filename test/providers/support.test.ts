import { promptTokens as emulatorPromptTokens } from '../../src/emulator/chat/tokens.js';
import { existsSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { loadConfig } from '../../src/config.js';
import { createProvider, describeProviderMode, estimateRequest, OpenAIBatchProvider } from '../../src/providers/index.js';
import { countChatTokens, countSchemaTokens } from '../../src/providers/tokens.js';
import { gradingRequest } from './helpers/requests.js';
import { customIdFor, parseCustomId } from '../../src/providers/custom-id.js';
import { ProviderError } from '../../src/providers/errors.js';
import { backoffDelayMs, withRetry } from '../../src/providers/retry.js';
import { spoolLines } from '../../src/providers/spool.js';

const secrets = { LTI_KEY: 'k'.repeat(40), ENCRYPTION_KEY: Buffer.alloc(32, 1).toString('base64') };
const limits = { maxRequests: 3, maxBytes: 1000, providerName: 'OpenAI' };

describe('spoolLines', () => {
  it('writes one request per line to a temporary .jsonl file and counts requests and bytes', async () => {
    async function* lines() {
      yield '{"custom_id":"a","method":"POST","url":"/v1/chat/completions","body":{"model":"gpt-4o-mini"}}';
      yield '{"custom_id":"b","method":"POST","url":"/v1/chat/completions","body":{"model":"gpt-4o-mini"}}';
    }
    const spooled = await spoolLines(lines(), limits);
    try {
      const text = readFileSync(spooled.path, 'utf8');
      expect(spooled.path).toMatch(/requests\.jsonl$/);
      expect(text.split('\n')).toHaveLength(3);
      expect(spooled).toMatchObject({ requestCount: 2, bytes: Buffer.byteLength(text), model: 'gpt-4o-mini' });
    } finally {
      await spooled.remove();
    }
    expect(existsSync(spooled.path)).toBe(false);
  });

  it('stops at the request limit before anything is uploaded, and cleans up', async () => {
    const failure = await spoolLines(['{}', '{}', '{}', '{}'], limits).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(ProviderError);
    expect(failure).toMatchObject({ code: 'too_large', retryable: false, message: 'The batch has more than 3 requests, the most OpenAI accepts in one batch: split it.' });
  });

  it('stops at the byte limit', async () => {
    await expect(spoolLines(['x'.repeat(600), 'y'.repeat(600)], limits)).rejects.toMatchObject({ code: 'too_large', message: expect.stringMatching(/larger than 0 MB/) });
  });

  it('refuses a line with a line break, and an empty batch', async () => {
    await expect(spoolLines(['{"a":\n1}'], limits)).rejects.toThrow(/contains a line break/);
    await expect(spoolLines([], limits)).rejects.toMatchObject({ code: 'invalid_request', message: 'The batch has no requests.' });
  });
});

describe('spoolLines failing, in a temporary folder of its own', () => {
  // Other test files spool into the shared temporary folder at the same time.
  let ownTmp: string;
  beforeEach(() => {
    ownTmp = mkdtempSync(path.join(tmpdir(), 'spool-test-'));
  });
  afterEach(() => rmSync(ownTmp, { recursive: true, force: true }));

  it('has closed its file and removed its folder by the time a failure is reported', async () => {
    const where = { parentDir: ownTmp };
    const openSpoolFiles = () =>
      readdirSync('/proc/self/fd').filter((fd) => {
        try {
          return readlinkSync(`/proc/self/fd/${fd}`).startsWith(ownTmp);
        } catch {
          return false; // the descriptor readdir itself used is gone by now
        }
      });
    // The file is open before the first line is asked for, so a line that fails can never race its opening (in CI
    // the open once landed after the folder's removal and raised an unhandled ENOENT).
    const seenAtFirstLine: string[][] = [];
    function* failingAtOnce() {
      seenAtFirstLine.push(readdirSync(ownTmp).flatMap((folder) => readdirSync(path.join(ownTmp, folder))));
      yield '{"a":\n1}';
    }
    await expect(spoolLines(failingAtOnce(), limits, where)).rejects.toThrow(/line break/);
    expect(seenAtFirstLine).toEqual([['requests.jsonl']]);
    // A failure on the first line, and one after lines were written; repeated, as races are.
    for (let round = 0; round < 25; round += 1) {
      await expect(spoolLines(['{"a":\n1}'], limits, where)).rejects.toThrow(/line break/);
      expect(openSpoolFiles()).toEqual([]);
      await expect(spoolLines(['{}', '{}', '{}', '{}'], limits, where)).rejects.toMatchObject({ code: 'too_large' });
      expect(openSpoolFiles()).toEqual([]);
    }
    expect(readdirSync(ownTmp)).toEqual([]);
  });

  // /dev/full refuses every write with ENOSPC, as a full disk does; the file name leads there from the spool's folder.
  const onFullDisk = (parentDir: string) => ({ parentDir, fileName: path.relative(path.join(parentDir, 'llm-assess-batch-x'), '/dev/full') });
  const roomy = { maxRequests: 1000, maxBytes: 10_000_000, providerName: 'OpenAI' };

  it('reports a write that failed while it waited for the next line at the next write, not as an uncaught error', async () => {
    async function* slowLines() {
      for (let i = 0; i < 50; i += 1) {
        await new Promise((resolve) => setTimeout(resolve, 2)); // the failed write's 'error' lands in here
        yield `{"custom_id":"${i}"}`;
      }
    }
    const failure = await spoolLines(slowLines(), roomy, onFullDisk(ownTmp)).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(Error);
    expect((failure as Error).message).toBe(`Could not write the batch file in ${ownTmp}: ENOSPC: no space left on device, write`);
    expect(readdirSync(ownTmp)).toEqual([]);
  });

  it('reports a write that failed while it waited on the file', async () => {
    const failure = await spoolLines(['{"custom_id":"a"}'], roomy, onFullDisk(ownTmp)).catch((e: unknown) => e);
    expect((failure as Error).message).toMatch(/^Could not write the batch file in .*: ENOSPC/);
    expect(readdirSync(ownTmp)).toEqual([]);
  });

  it('removes its folder when the file cannot be opened', async () => {
    await expect(spoolLines(['{}'], roomy, { parentDir: ownTmp, fileName: 'no-such-folder/requests.jsonl' })).rejects.toMatchObject({ code: 'ENOENT' });
    expect(readdirSync(ownTmp)).toEqual([]);
  });
});

describe('estimateRequest', () => {
  it('prices exact prompt tokens plus expected output tokens', () => {
    const req = gradingRequest(1, { maxOutputTokens: 1000 });
    // The messages and the response format's schema, counted as the emulator bills them.
    const inputTokens = emulatorPromptTokens('gpt-4o-mini', req.messages, req.responseFormat);
    expect(inputTokens).toBe(countChatTokens('gpt-4o-mini', req.messages) + countSchemaTokens('gpt-4o-mini', req.responseFormat!.json_schema.schema));
    const batch = estimateRequest(req, 'batch');
    // No history: 60% of 1,000 = 600 output tokens. Batch: input × $0.075 + 600 × $0.30 = 180 µ$ of output.
    expect(batch).toEqual({ inputTokens, outputTokens: 600, costMicros: Math.round(inputTokens * 0.075 + 180) });
    // With history (mean 250), standard prices: input × $0.15 + 250 × $0.60 = 150 µ$ of output.
    expect(estimateRequest(req, 'standard', { observedMean: 250 })).toEqual({ inputTokens, outputTokens: 250, costMicros: Math.round(inputTokens * 0.15 + 150) });
  });
});

describe('withRetry', () => {
  const policy = { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 4 };
  const retryable = () => new ProviderError('busy', { code: 'server_error', retryable: true });

  it('retries retryable errors and returns the first success', async () => {
    let calls = 0;
    const delays: number[] = [];
    const result = await withRetry(
      policy,
      async () => {
        calls += 1;
        if (calls < 3) throw retryable();
        return 'ok';
      },
      { onRetry: (_e, _a, d) => delays.push(d) },
    );
    expect(result).toBe('ok');
    expect(calls).toBe(3);
    expect(delays).toHaveLength(2);
  });

  it('does not retry permanent errors or foreign errors', async () => {
    let calls = 0;
    const permanent = new ProviderError('no', { code: 'invalid_request', retryable: false });
    await expect(withRetry(policy, async () => { calls += 1; throw permanent; })).rejects.toBe(permanent);
    await expect(withRetry(policy, async () => { calls += 1; throw new TypeError('bug'); })).rejects.toThrow(TypeError);
    expect(calls).toBe(2);
  });

  it('rethrows a single-attempt failure unchanged', async () => {
    const err = retryable();
    await expect(withRetry({ ...policy, maxAttempts: 1 }, async () => { throw err; })).rejects.toBe(err);
  });

  it('backs off exponentially within the cap, or follows Retry-After (capped)', () => {
    const p = { maxAttempts: 5, baseDelayMs: 100, maxDelayMs: 1000 };
    for (let i = 0; i < 20; i += 1) {
      expect(backoffDelayMs(p, 1, null)).toBeGreaterThanOrEqual(50);
      expect(backoffDelayMs(p, 1, null)).toBeLessThanOrEqual(100);
      expect(backoffDelayMs(p, 10, null)).toBeLessThanOrEqual(1000);
    }
    expect(backoffDelayMs(p, 1, 300)).toBe(300);
    expect(backoffDelayMs(p, 1, 60_000)).toBe(1000);
  });
});

describe('custom ids', () => {
  it('are made only from valid queue item ids and attempts', () => {
    expect(customIdFor(1, 1)).toBe('qi-1-a1');
    expect(() => customIdFor(0, 1)).toThrow(/queueItemId/);
    expect(() => customIdFor(1.5, 1)).toThrow(/queueItemId/);
    expect(() => customIdFor(1, 0)).toThrow(/attempt/);
  });

  it('parse to null when not ours', () => {
    for (const id of ['', 'qi-1', 'qi-0-a1', 'qi-1-a0', 'x-qi-1-a1', 'qi-1-a1 ', 'request-7']) expect(parseCustomId(id)).toBeNull();
  });
});

describe('provider mode and factory', () => {
  it('says demo mode without an API key, and points at the emulator', () => {
    const config = loadConfig(secrets);
    expect(describeProviderMode(config)).toEqual({ demoMode: true, label: 'demo mode: simulated grader', baseUrl: 'http://127.0.0.1:4010/v1' });
    expect(createProvider(config)).toBeInstanceOf(OpenAIBatchProvider);
  });

  it('names OpenAI, or the compatible host, with a key', () => {
    expect(describeProviderMode(loadConfig({ ...secrets, OPENAI_API_KEY: 'sk-x' }))).toMatchObject({ demoMode: false, label: 'OpenAI' });
    expect(describeProviderMode(loadConfig({ ...secrets, OPENAI_API_KEY: 'sk-x', OPENAI_BASE_URL: 'https://llm.example.edu/v1' }))).toMatchObject({
      demoMode: false,
      label: 'OpenAI-compatible API at llm.example.edu',
    });
  });

  it('refuses to build an OpenAI provider without a key', () => {
    expect(() => new OpenAIBatchProvider({ apiKey: '', baseURL: 'http://127.0.0.1:1/v1' })).toThrow(/needs an API key \(OPENAI_API_KEY\)/);
  });

  it('exposes the OpenAI limits callers split batches by', () => {
    const provider = createProvider(loadConfig(secrets));
    expect(provider.name).toBe('openai');
    expect(provider.capabilities).toMatchObject({ maxRequestsPerBatch: 50_000, maxBytesPerBatch: 200_000_000, oneModelPerBatch: true, resultsInInputOrder: false, batchPriceFactor: 0.5 });
    expect(provider.capabilities.customIdPattern.test(customIdFor(99, 3))).toBe(true);
  });
});
