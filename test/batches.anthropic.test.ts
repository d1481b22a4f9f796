import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { sql } from 'drizzle-orm';
import type { Config } from '../src/config.js';
import { startEmulator, type RunningEmulator } from '../src/emulator/index.js';
import { cleanUpProviderFiles } from '../src/models/batches/provider-cleanup.service.js';
import type { BatchWorker } from '../src/models/batches/batch-worker.js';
import { findBatchById, type BatchRow } from '../src/models/batches/batches.repository.js';
import { createBatches, requestCancel, requestSubmit } from '../src/models/batches/batches.service.js';
import { actualCostMicros, type BatchResultLine } from '../src/providers/index.js';
import { createTestDatabase, type TestDatabase } from './helpers/db.js';
import { bulkSubmit, seedTenant, type Tenant } from './helpers/batch-fixtures.js';
import { drive, pollUntilFinished, submitSteps, testConfig, testWorker } from './helpers/batch-driver.js';
import { sendBatch } from '../src/models/batches/batch-send.service.js';
import { ingestBatch } from '../src/models/batches/batch-ingest.service.js';
import { cancelBatchWork } from '../src/models/batches/batch-poll.service.js';

/**
 * An Anthropic Message Batch end to end, against the emulator's Anthropic side over HTTP, driven as the job runner
 * drives batches: a prompt on claude-haiku-4-5 in a course that approves Anthropic, its items batched, sent (one
 * create call carrying every request), polled, ingested — each result type of Message Batches (succeeded, errored,
 * canceled, expired) — and the batch deleted at the provider afterwards.
 */

let db: TestDatabase;
let emulator: RunningEmulator;
let config: Config;
let w: BatchWorker;

beforeAll(async () => {
  db = await createTestDatabase();
  emulator = await startEmulator({ port: 0, timings: { validatingMs: 0, inProgressMs: 0, finalizingMs: 0 } });
  config = testConfig(db, emulator.apiBaseUrl);
  w = testWorker(db.db, config);
});
afterAll(async () => {
  await emulator.close();
  await db.drop();
});
beforeEach(() => {
  emulator.setFaults({});
});

async function newBatch(n: number, options: Parameters<typeof seedTenant>[1] = {}): Promise<{ t: Tenant; items: number[]; batch: BatchRow }> {
  const t = await seedTenant(db.db, { provider: 'anthropic', ...options });
  const items = await bulkSubmit(db.db, config, t, n);
  const { batches: [batch] } = await db.db.transaction((tx) => createBatches(tx, config.batches, t.admin, { scope: 'selected', ids: items }, {}));
  await requestSubmit(db.db, t.admin, batch!.id);
  return { t, items, batch: batch! };
}

const requestsOf = (batchId: number) =>
  db.db.execute<{ custom_id: string; status: string; error_code: string | null }>(sql`select custom_id, status, error_code from batch_requests where batch_id = ${batchId} order by custom_id`).then((r) => r.rows);
const assessmentsOf = (batchId: number) =>
  db.db
    .execute<{ queue_item_id: number; score: number | null; input_tokens: number; cached_input_tokens: number; output_tokens: number; actual_cost_micros: number; model: string }>(
      sql`select queue_item_id, score, input_tokens, cached_input_tokens, output_tokens, actual_cost_micros, model from assessments where batch_id = ${batchId} order by queue_item_id`,
    )
    .then((r) => r.rows);
const itemStatuses = (items: number[]) =>
  db.db.execute<{ status: string }>(sql`select status from queue_items where id = any(${sql.param(items)}::bigint[]) order by id`).then((r) => r.rows.map((x) => x.status));

async function resultsAtProvider(batch: BatchRow): Promise<BatchResultLine[]> {
  const lines: BatchResultLine[] = [];
  for await (const line of w.providers.get('anthropic').streamResults(batch.outputFileId!)) lines.push(line);
  return lines;
}

describe('an Anthropic batch, end to end', () => {
  it('is made for the prompt\'s provider, sent as one Message Batch, polled and ingested: every request succeeded', async () => {
    const { items, batch } = await newBatch(3);
    expect(batch).toMatchObject({ provider: 'anthropic', model: 'claude-haiku-4-5', status: 'created' });
    await drive(w, submitSteps([batch.id]));
    const done = (await findBatchById(db.db, batch.id))!;
    expect(done.providerBatchId).toMatch(/^msgbatch_/);
    expect(done).toMatchObject({ status: 'completed', providerStatus: 'ended', requestTotal: 3, requestCompleted: 3, requestFailed: 0, ingestedLines: 3 });
    // A Message Batch has no files: the batch stands for its requests and its results, and no error file exists.
    expect([done.inputFileId, done.outputFileId, done.errorFileId]).toEqual([done.providerBatchId, done.providerBatchId, null]);
    const assessments = await assessmentsOf(batch.id);
    expect(assessments).toHaveLength(3);
    for (const a of assessments) {
      expect(a.model).toBe('claude-haiku-4-5');
      expect(a.score).toBeGreaterThanOrEqual(0);
      expect(a.score).toBeLessThanOrEqual(10);
      expect(a.input_tokens).toBeGreaterThan(0);
      expect(Number(a.actual_cost_micros)).toBeGreaterThan(0);
    }
    expect(await itemStatuses(items)).toEqual(['completed', 'completed', 'completed']);
    expect(Number(done.actualCostMicros)).toBe(assessments.reduce((s, a) => s + Number(a.actual_cost_micros), 0));
    const audit = await db.db.execute<{ action: string; provider: string }>(sql`select action, details ->> 'provider' as provider from audit_log where entity_type = 'batch' and entity_id = ${String(batch.id)} and action like 'provider.%' order by id`);
    expect(new Set(audit.rows.map((r) => r.provider))).toEqual(new Set(['anthropic']));

    // Data minimisation: the batch (its requests and results) is deleted at Anthropic once read.
    expect(await cleanUpProviderFiles(w, batch.id)).toBe('deleted');
    expect((await findBatchById(db.db, batch.id))!.providerFilesDeletedAt).not.toBeNull();
    const gone = await fetch(`${emulator.url}/v1/messages/batches/${done.providerBatchId}`, { headers: { 'x-api-key': 'k', 'anthropic-version': '2023-06-01' } });
    expect(gone.status).toBe(404);
  });

  it('charges each result exactly from its usage at Claude batch prices: prompt-cache writes (1 hour) and reads included', async () => {
    // A static prefix (tool + system) past Haiku 4.5's 4,096-token minimum: the first request writes it, the rest read it.
    const { batch } = await newBatch(4, { systemInstructions: 'Grade short persuasive paragraphs fairly, citing the student\'s own words. '.repeat(400) });
    await drive(w, submitSteps([batch.id]));
    const done = (await findBatchById(db.db, batch.id))!;
    const lines = await resultsAtProvider(done);
    const succeeded = lines.filter((l): l is Extract<BatchResultLine, { kind: 'succeeded' }> => l.kind === 'succeeded');
    expect(succeeded).toHaveLength(4);
    const writers = succeeded.filter((l) => (l.usage.cacheWrite1hTokens ?? 0) > 0);
    const readers = succeeded.filter((l) => l.usage.cachedInputTokens > 0);
    expect(writers).toHaveLength(1);
    expect(readers).toHaveLength(3);
    expect(writers[0]!.usage.cacheWriteTokens).toBe(0);
    expect(readers[0]!.usage.cachedInputTokens).toBe(writers[0]!.usage.cacheWrite1hTokens);

    const assessments = await assessmentsOf(batch.id);
    const byItem = new Map(assessments.map((a) => [Number(a.queue_item_id), a]));
    for (const line of succeeded) {
      const itemId = Number(/^qi-(\d+)-/.exec(line.customId)![1]);
      const a = byItem.get(itemId)!;
      expect([line.customId, a.input_tokens, a.cached_input_tokens, a.output_tokens]).toEqual([line.customId, line.usage.inputTokens, line.usage.cachedInputTokens, line.usage.outputTokens]);
      // The charge is the usage at the day's batch prices, cache writes at the 1-hour write price.
      expect([line.customId, Number(a.actual_cost_micros)]).toEqual([line.customId, actualCostMicros(line.usage, 'claude-haiku-4-5', 'batch')]);
    }
    // By hand for the writer: plain input at $0.50, the 1-hour write at $1.00, output at $2.50 per million tokens.
    const u = writers[0]!.usage;
    const plain = u.inputTokens - u.cachedInputTokens - (u.cacheWrite1hTokens ?? 0) - (u.cacheWriteTokens ?? 0);
    expect(actualCostMicros(u, 'claude-haiku-4-5', 'batch')).toBe(Math.round(plain * 0.5 + (u.cacheWrite1hTokens ?? 0) * 1.0 + u.outputTokens * 2.5));
    const ledger = await db.db.execute<{ total: number; n: number }>(sql`select sum(amount_micros)::int8 as total, count(*)::int as n from cost_ledger where batch_id = ${batch.id} and kind = 'charge'`);
    expect([ledger.rows[0]!.n, Number(ledger.rows[0]!.total)]).toEqual([4, Number(done.actualCostMicros)]);
  });

  it('errored results (a request Anthropic refuses) fail their requests with Anthropic\'s error type; the batch still completes', async () => {
    emulator.setFaults({ lineErrorRate: 1, lineErrorStatus: 400 });
    const { items, batch } = await newBatch(2);
    await drive(w, submitSteps([batch.id]));
    const done = (await findBatchById(db.db, batch.id))!;
    expect(done).toMatchObject({ status: 'completed', requestCompleted: 0, requestFailed: 2 });
    expect(done.error).toBe('No request in the batch succeeded: all 2 errored (details in the results).');
    expect(await assessmentsOf(batch.id)).toEqual([]);
    expect((await requestsOf(batch.id)).map((r) => [r.status, r.error_code])).toEqual([['failed', 'invalid_request_error'], ['failed', 'invalid_request_error']]);
    // A failed send goes back to the queue while it has attempts left.
    expect(await itemStatuses(items)).toEqual(['queued', 'queued']);
  });

  it('canceled results (a cancel before the batch ended) go back to the queue; what finished is kept', async () => {
    emulator.setFaults({ timings: { inProgressMs: 60_000 } });
    const { t, items, batch } = await newBatch(3);
    await sendBatch(w, batch.id);
    expect((await findBatchById(db.db, batch.id))!).toMatchObject({ status: 'submitted', providerStatus: 'in_progress' });
    await requestCancel(db.db, t.admin, batch.id);
    await cancelBatchWork(w, batch.id);
    await pollUntilFinished(w, batch.id);
    const ended = (await findBatchById(db.db, batch.id))!;
    expect(ended).toMatchObject({ status: 'cancelled', providerStatus: 'ended' });
    expect(ended.error).toMatch(/The batch was canceled: \d of 3 requests had succeeded/);
    await ingestBatch(w, batch.id);
    const requests = await requestsOf(batch.id);
    const cancelled = requests.filter((r) => r.status === 'cancelled');
    expect(cancelled.length + requests.filter((r) => r.status === 'succeeded').length).toBe(3);
    expect(cancelled.length).toBeGreaterThan(0);
    expect(cancelled.every((r) => r.error_code === 'batch_cancelled')).toBe(true);
    const statuses = await itemStatuses(items);
    expect(statuses.filter((s) => s === 'queued')).toHaveLength(cancelled.length);
  });

  it('expired results (the 24-hour window closed first) go back to the queue; the batch is expired', async () => {
    emulator.setFaults({ expireNextBatches: 1, expireCompletedFraction: 0.5 });
    const { items, batch } = await newBatch(4);
    await drive(w, submitSteps([batch.id]));
    const done = (await findBatchById(db.db, batch.id))!;
    expect(done).toMatchObject({ status: 'expired', providerStatus: 'ended', requestCompleted: 2, requestFailed: 2 });
    expect(done.error).toMatch(/did not finish within Anthropic's 24-hour window: 2 of 4 requests succeeded/);
    const requests = await requestsOf(batch.id);
    expect(requests.filter((r) => r.status === 'succeeded')).toHaveLength(2);
    expect(requests.filter((r) => r.status === 'expired').map((r) => r.error_code)).toEqual(['batch_expired', 'batch_expired']);
    expect((await itemStatuses(items)).sort()).toEqual(['completed', 'completed', 'queued', 'queued']);
    expect(await assessmentsOf(batch.id)).toHaveLength(2);
  });

  it('a create whose answer was lost is not sent twice: the batch fails with where to look, its items back in the queue', async () => {
    emulator.setFaults({ createBatchFailures: { count: 1, status: 500, created: true } });
    const before = (await (await fetch(`${emulator.url}/__emulator/health`)).json()) as { messageBatches: number };
    const { items, batch } = await newBatch(2);
    await drive(w, submitSteps([batch.id]));
    const failed = (await findBatchById(db.db, batch.id))!;
    expect(failed.status).toBe('failed');
    expect(failed.error).toMatch(/Anthropic may have created the batch anyway.*not sent again automatically/);
    expect(await itemStatuses(items)).toEqual(['queued', 'queued']);
    // Exactly one batch reached Anthropic (the one whose answer was lost): no twin was created.
    const after = (await (await fetch(`${emulator.url}/__emulator/health`)).json()) as { messageBatches: number };
    expect(after.messageBatches - before.messageBatches).toBe(1);
  });

  it('a rate limit on create is retried by the send step, and the batch goes through once', async () => {
    emulator.setFaults({ createBatchFailures: { count: 1, status: 429 } });
    const before = (await (await fetch(`${emulator.url}/__emulator/health`)).json()) as { messageBatches: number };
    const { batch } = await newBatch(2);
    await drive(w, submitSteps([batch.id]));
    const done = (await findBatchById(db.db, batch.id))!;
    expect(done).toMatchObject({ status: 'completed', requestCompleted: 2, submitAttempts: 1 });
    const after = (await (await fetch(`${emulator.url}/__emulator/health`)).json()) as { messageBatches: number };
    expect(after.messageBatches - before.messageBatches).toBe(1);
  });

  it('a course that does not approve Anthropic keeps a Claude prompt\'s items out of any batch', async () => {
    const t = await seedTenant(db.db, { provider: 'anthropic' });
    const items = await bulkSubmit(db.db, config, t, 1);
    await db.db.execute(sql`update course_privacy set approved_providers = '{openai}' where course_id = ${t.courseId}`);
    const refused = await db.db.transaction((tx) => createBatches(tx, config.batches, t.admin, { scope: 'selected', ids: items }, {})).catch((e: unknown) => e);
    expect(refused).toMatchObject({ status: 409 });
    expect((refused as Error).message).toContain('Their prompts send these items to Anthropic, which these courses');
    expect(await itemStatuses(items)).toEqual(['queued']);
  });
});
