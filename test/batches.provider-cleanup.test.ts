import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { sql } from 'drizzle-orm';
import type { JobDeps } from '../src/jobs/job.js';
import type { JobName, Jobs } from '../src/job-queue.js';
import { batchIngestJob } from '../src/jobs/batch-ingest.job.js';
import { batchSweepJob } from '../src/jobs/batch-sweep.job.js';
import { silentLogger } from '../src/log.js';
import { ingestBatch } from '../src/models/batches/batch-ingest.service.js';
import { sendBatch } from '../src/models/batches/batch-send.service.js';
import { dueFileCleanups } from '../src/models/batches/batch-steps.repository.js';
import type { BatchWorker } from '../src/models/batches/batch-worker.js';
import { findBatchById, type BatchRow } from '../src/models/batches/batches.repository.js';
import { createBatches, requestCancel, requestSubmit } from '../src/models/batches/batches.service.js';
import { cleanUpProviderFiles, cleanupRetryDelayMs, PROVIDER_CLEANUP_MAX_ATTEMPTS } from '../src/models/batches/provider-cleanup.service.js';
import { OpenAIBatchProvider } from '../src/providers/index.js';
import { ProviderError } from '../src/providers/errors.js';
import type { BatchProvider } from '../src/providers/provider.js';
import { bulkSubmit, seedTenant } from './helpers/batch-fixtures.js';
import { drive, FAST_BATCH_ENV, pollUntilFinished, submitSteps, useEmulatedBatches } from './helpers/batch-driver.js';
import { textOf } from './helpers/html.js';
import type { ToolSession } from './helpers/lti-browser.js';
import { activatePrompt, allowLlm, homeIds, submitMany, userIdOf, type Home } from './helpers/queue-fixtures.js';
import { startStack, type Stack } from './helpers/stack.js';
import { until } from './helpers/until.js';

/**
 * Issue 17, item 2: after a batch's results are read (or it ended without any), its input, output and error files
 * are deleted at the provider — the emulator over HTTP, which deletes files as the API does — and the deletion is
 * recorded on the batch and in the audit log; a failure is counted, retried by the sweep and shown to
 * administrators.
 */

const AUTH = { authorization: 'Bearer sk-test' };

describe('deleting a batch’s files at the provider (worker steps, emulator over HTTP)', () => {
  const env = useEmulatedBatches();
  const db = () => env.db.db;
  beforeEach(() => {
    env.emulator.setFaults({});
  });

  async function newBatch(n: number): Promise<{ t: Awaited<ReturnType<typeof seedTenant>>; batch: BatchRow }> {
    const t = await seedTenant(db());
    const items = await bulkSubmit(db(), env.config, t, n);
    const { batches: [batch] } = await db().transaction((tx) => createBatches(tx, env.config.batches, t.admin, { scope: 'selected', ids: items }, {}));
    await requestSubmit(db(), t.admin, batch!.id);
    return { t, batch: batch! };
  }
  const row = async (id: number) => (await findBatchById(db(), id))!;
  const leaseOf = async (id: number) =>
    (await db().execute<{ lease_owner: string | null; left_ms: number | null }>(sql`
      select lease_owner, (extract(epoch from lease_expires_at - now()) * 1000)::int as left_ms from batches where id = ${id}`)).rows[0]!;
  /** The pause after a failure is over (as if its time had passed). */
  const makeDue = (id: number) => db().execute(sql`update batches set lease_expires_at = now() where id = ${id} and lease_owner = 'backoff'`);
  const audits = async (id: number, action: string) =>
    (await db().execute<{ details: Record<string, unknown> }>(sql`select details from audit_log where entity_type = 'batch' and entity_id = ${String(id)} and action = ${action} order by id`)).rows.map((r) => r.details);
  const fileStatus = async (fileId: string) => (await fetch(`${env.emulator.apiBaseUrl}/files/${fileId}`, { headers: AUTH })).status;
  const stored = (fileId: string) => env.emulator.emulator.context.store.files.has(fileId);
  /** A worker whose provider counts (and may change) its deleteFile calls. */
  function withDeletes(w: BatchWorker, name: string, onDelete?: (fileId: string, n: number) => Promise<void>): BatchWorker & { deletes: string[] } {
    const deletes: string[] = [];
    const real = w.provider;
    const provider = Object.assign(Object.create(real) as BatchProvider, {
      async deleteFile(fileId: string) {
        deletes.push(fileId);
        await onDelete?.(fileId, deletes.length);
        return real.deleteFile(fileId);
      },
    });
    return { ...w, name, provider, deletes };
  }
  /** Runs a batch to its end at the provider and reads its results, without the cleanup (as if the worker stopped there). */
  async function ingestedWithoutCleanup(n: number): Promise<BatchRow> {
    const { batch } = await newBatch(n);
    await sendBatch(env.worker, batch.id);
    await pollUntilFinished(env.worker, batch.id);
    await ingestBatch(env.worker, batch.id);
    const after = await row(batch.id);
    expect(after.ingestedAt).not.toBeNull();
    expect(after.providerFilesDeletedAt).toBeNull();
    return after;
  }

  it('a completed batch: once its results are read its input and output files are gone at the provider, and the row and the audit log say so, once', async () => {
    const { batch } = await newBatch(3);
    await drive(env.worker, submitSteps([batch.id]), 30_000, { cleanUp: true });
    const after = await row(batch.id);
    expect(after.status).toBe('completed');
    expect(after.inputFileId).toMatch(/^file-/);
    expect(after.outputFileId).toMatch(/^file-/);
    expect(after.errorFileId).toBeNull();
    expect(after.providerFilesDeletedAt).toBeInstanceOf(Date);
    expect(after.providerFilesDeletedAt!.getTime()).toBeGreaterThanOrEqual(after.ingestedAt!.getTime());
    expect(after).toMatchObject({ providerFilesDeleteAttempts: 0, providerFilesDeleteError: null, leaseOwner: null });
    // At the provider: neither file is stored, and the API answers 404 for both.
    expect([stored(after.inputFileId!), stored(after.outputFileId!)]).toEqual([false, false]);
    expect([await fileStatus(after.inputFileId!), await fileStatus(after.outputFileId!)]).toEqual([404, 404]);
    // The audit log: which files of which batch, nothing of their content.
    expect(await audits(batch.id, 'provider.files_deleted')).toEqual([
      { provider: 'openai', providerBatchId: after.providerBatchId, inputFileId: after.inputFileId, outputFileId: after.outputFileId, errorFileId: null },
    ]);
    // Done is done: another cleanup (a second job, another worker) finds nothing, the sweep hands out nothing.
    const again = withDeletes(env.worker, 'second');
    expect(await cleanUpProviderFiles(again, batch.id)).toBe('skipped');
    expect(again.deletes).toEqual([]);
    expect(await dueFileCleanups(db(), 5000, PROVIDER_CLEANUP_MAX_ATTEMPTS)).not.toContain(batch.id);
    expect(await audits(batch.id, 'provider.files_deleted')).toHaveLength(1);
    expect((await row(batch.id)).providerFilesDeletedAt).toEqual(after.providerFilesDeletedAt);
  });

  it('batches that ended without all their results (failed, expired, cancelled): every file they left at the provider is deleted', async () => {
    env.emulator.setFaults({ failNextBatches: 1 });
    const failed = await newBatch(2);
    await drive(env.worker, submitSteps([failed.batch.id]), 30_000, { cleanUp: true });

    env.emulator.setFaults({ expireNextBatches: 1, expireCompletedFraction: 0.5 });
    const expired = await newBatch(6);
    await drive(env.worker, submitSteps([expired.batch.id]), 30_000, { cleanUp: true });

    env.emulator.setFaults({ stuck: { phase: 'validating', batches: 1, forMs: null } });
    const cancelled = await newBatch(2);
    await sendBatch(env.worker, cancelled.batch.id);
    await requestCancel(db(), cancelled.t.admin, cancelled.batch.id);
    await drive(env.worker, [{ step: 'poll', batchId: cancelled.batch.id }], 30_000, { cleanUp: true });

    const rows = await Promise.all([failed, expired, cancelled].map((b) => row(b.batch.id)));
    expect(rows.map((r) => r.status)).toEqual(['failed', 'expired', 'cancelled']);
    // The failed one left its request file; the expired one all three; the cancelled one its request file.
    expect(rows.map((r) => [r.inputFileId !== null, r.outputFileId !== null, r.errorFileId !== null])).toEqual([
      [true, false, false],
      [true, true, true],
      [true, false, false],
    ]);
    for (const r of rows) {
      expect(r.providerFilesDeletedAt).toBeInstanceOf(Date);
      for (const fileId of [r.inputFileId, r.outputFileId, r.errorFileId]) if (fileId) expect(await fileStatus(fileId)).toBe(404);
      expect(await audits(r.id, 'provider.files_deleted')).toHaveLength(1);
    }
  });

  it('a batch cancelled before it was sent left nothing at the provider: nothing to delete, never handed out', async () => {
    const { t, batch } = await newBatch(1);
    await requestCancel(db(), t.admin, batch.id);
    const after = await row(batch.id);
    expect(after.ingestedAt).not.toBeNull();
    const w = withDeletes(env.worker, 'idle');
    expect(await cleanUpProviderFiles(w, batch.id)).toBe('skipped');
    expect(w.deletes).toEqual([]);
    expect(await dueFileCleanups(db(), 5000, PROVIDER_CLEANUP_MAX_ATTEMPTS)).not.toContain(batch.id);
    expect((await row(batch.id)).providerFilesDeletedAt).toBeNull();
  });

  it('a file the provider no longer has (404) counts as deleted', async () => {
    const batch = await ingestedWithoutCleanup(2);
    // The output file went first (by hand in the dashboard, or an earlier try whose answer was lost).
    expect((await fetch(`${env.emulator.apiBaseUrl}/files/${batch.outputFileId}`, { method: 'DELETE', headers: AUTH })).status).toBe(200);
    const w = withDeletes(env.worker, 'cleaner');
    expect(await cleanUpProviderFiles(w, batch.id)).toBe('deleted');
    expect(w.deletes).toEqual([batch.inputFileId, batch.outputFileId]);
    expect(await row(batch.id)).toMatchObject({ providerFilesDeleteAttempts: 0, providerFilesDeleteError: null });
    expect((await row(batch.id)).providerFilesDeletedAt).toBeInstanceOf(Date);
    expect(stored(batch.inputFileId!)).toBe(false);
  });

  it('a failed deletion is counted with its reason and held for a pause; the sweep then hands it out and the ingest job deletes, once', async () => {
    // The first deletion (the request file) meets a server error; the output file is deleted all the same.
    env.emulator.setFaults({ deleteFileFailures: { count: 1, status: 500 } });
    const { batch } = await newBatch(2);
    await drive(env.worker, submitSteps([batch.id]), 30_000, { cleanUp: true });
    const failed = await row(batch.id);
    expect(failed.providerFilesDeletedAt).toBeNull();
    expect(failed.providerFilesDeleteAttempts).toBe(1);
    expect(failed.providerFilesDeleteError).toBe(
      `Could not delete 1 of 2 files at the provider: input file ${failed.inputFileId}: OpenAI refused to delete file ${failed.inputFileId}: The server had an error while processing your request. Sorry about that! (HTTP 500).`,
    );
    expect([stored(failed.inputFileId!), stored(failed.outputFileId!)]).toEqual([true, false]);
    expect(await audits(batch.id, 'provider.files_deleted')).toEqual([]);
    // Held for two sweeps (the first pause), not handed out meanwhile.
    const held = await leaseOf(batch.id);
    expect(held.lease_owner).toBe('backoff');
    expect(held.left_ms).toBeGreaterThan(0);
    expect(held.left_ms).toBeLessThanOrEqual(cleanupRetryDelayMs(env.config.batches.sweepMs, 1));
    expect(await cleanUpProviderFiles(env.worker, batch.id)).toBe('skipped');
    expect(await dueFileCleanups(db(), 5000, PROVIDER_CLEANUP_MAX_ATTEMPTS)).not.toContain(batch.id);

    // The pause is over: the sweep hands the batch out as its ingest job, which finds no ingesting to do and deletes.
    await makeDue(batch.id);
    const enqueued: Array<{ name: JobName; payload: unknown }> = [];
    const jobs: Jobs = { enqueue: async (name, payload) => void enqueued.push({ name, payload }) };
    const deps: JobDeps = { db: db(), logger: silentLogger, config: env.config, provider: env.worker.provider, workerName: 'sweeper', jobs };
    await batchSweepJob.handle(deps, {});
    expect(enqueued).toContainEqual({ name: 'batch-ingest', payload: { batchId: batch.id } });
    expect((await leaseOf(batch.id)).lease_owner).toBe('dispatched');
    // Handed out once: the next sweep leaves it to the job.
    enqueued.length = 0;
    await batchSweepJob.handle(deps, {});
    expect(enqueued.filter((j) => (j.payload as { batchId: number }).batchId === batch.id)).toEqual([]);
    await batchIngestJob.handle(deps, { batchId: batch.id });

    const done = await row(batch.id);
    expect(done.providerFilesDeletedAt).toBeInstanceOf(Date);
    expect(done).toMatchObject({ providerFilesDeleteAttempts: 1, providerFilesDeleteError: null, leaseOwner: null });
    expect(await fileStatus(done.inputFileId!)).toBe(404);
    expect(await audits(batch.id, 'provider.files_deleted')).toHaveLength(1);
    expect(await audits(batch.id, 'provider.files_delete_failed')).toEqual([]);
  });

  it(`after ${PROVIDER_CLEANUP_MAX_ATTEMPTS} failed tries it stops: said once in the audit log, left out of the sweep, kept visible as failed`, async () => {
    const batch = await ingestedWithoutCleanup(1);
    env.emulator.setFaults({ deleteFileFailures: { count: 1000, status: 429 } });
    for (let attempt = 1; attempt <= PROVIDER_CLEANUP_MAX_ATTEMPTS; attempt += 1) {
      expect(await cleanUpProviderFiles(env.worker, batch.id)).toBe('failed');
      expect((await row(batch.id)).providerFilesDeleteAttempts).toBe(attempt);
      if (attempt < PROVIDER_CLEANUP_MAX_ATTEMPTS) {
        expect((await leaseOf(batch.id)).lease_owner).toBe('backoff');
        await makeDue(batch.id);
      }
    }
    const last = await row(batch.id);
    expect(last.providerFilesDeleteError).toMatch(/^Could not delete 2 of 2 files at the provider: input file file-\S+: OpenAI refused to delete file .*\(HTTP 429, rate_limit_exceeded\)/);
    expect(last.providerFilesDeletedAt).toBeNull();
    expect((await leaseOf(batch.id)).lease_owner).toBeNull();
    expect(await dueFileCleanups(db(), 5000, PROVIDER_CLEANUP_MAX_ATTEMPTS)).not.toContain(batch.id);
    expect(await cleanUpProviderFiles(env.worker, batch.id)).toBe('skipped');
    expect((await row(batch.id)).providerFilesDeleteAttempts).toBe(PROVIDER_CLEANUP_MAX_ATTEMPTS);
    expect(await audits(batch.id, 'provider.files_delete_failed')).toEqual([
      expect.objectContaining({ inputFileId: batch.inputFileId, outputFileId: batch.outputFileId, attempts: PROVIDER_CLEANUP_MAX_ATTEMPTS, error: last.providerFilesDeleteError }),
    ]);
    expect(await audits(batch.id, 'provider.files_deleted')).toEqual([]);
    // The pauses grow: two sweeps, four, eight, … up to six hours.
    expect([1, 2, 3].map((n) => cleanupRetryDelayMs(30_000, n))).toEqual([60_000, 120_000, 240_000]);
    expect(cleanupRetryDelayMs(30_000, 9)).toBe(256 * 60_000);
    expect(cleanupRetryDelayMs(60_000, 9)).toBe(6 * 3_600_000);
  });

  it('an unexpected error from the provider is counted like a refusal, with its kind', async () => {
    const batch = await ingestedWithoutCleanup(1);
    const broken = withDeletes(env.worker, 'broken', async () => {
      throw new TypeError('fetch failed');
    });
    expect(await cleanUpProviderFiles(broken, batch.id)).toBe('failed');
    const after = await row(batch.id);
    expect(after.providerFilesDeleteError).toBe(
      `Could not delete 2 of 2 files at the provider: input file ${batch.inputFileId}: unexpected TypeError: fetch failed; output file ${batch.outputFileId}: unexpected TypeError: fetch failed`,
    );
    expect(after.providerFilesDeleteAttempts).toBe(1);
  });

  it('a provider that answers "deleted": false has not deleted: the OpenAI adapter says so and the cleanup counts a failure', async () => {
    const server: Server = createServer((req, res) => {
      const id = decodeURIComponent((req.url ?? '').split('/').pop() ?? '');
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ id, object: 'file', deleted: false }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const provider = new OpenAIBatchProvider({ apiKey: 'k', baseURL: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`, retry: { maxAttempts: 1 } });
      const refusal = await provider.deleteFile('file-abc').catch((err: unknown) => err);
      expect(refusal).toBeInstanceOf(ProviderError);
      expect(refusal).toMatchObject({ code: 'invalid_response', message: 'OpenAI did not delete file file-abc: it answered "deleted": false.' });
      const batch = await ingestedWithoutCleanup(1);
      expect(await cleanUpProviderFiles({ ...env.worker, provider }, batch.id)).toBe('failed');
      expect((await row(batch.id)).providerFilesDeleteError).toMatch(/input file file-\S+: OpenAI did not delete file file-\S+: it answered "deleted": false\./);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('the OpenAI adapter: an unknown file is not an error; a server error is a retryable ProviderError, and is retried', async () => {
    await expect(env.worker.provider.deleteFile('file-never-was')).resolves.toBeUndefined();
    env.emulator.setFaults({ deleteFileFailures: { count: 1, status: 500 } });
    const err = await env.worker.provider.deleteFile('file-never-was').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProviderError);
    expect(err).toMatchObject({ code: 'server_error', retryable: true, httpStatus: 500 });
    env.emulator.setFaults({ deleteFileFailures: { count: 1, status: 500 } });
    const patient = new OpenAIBatchProvider({ apiKey: 'k', baseURL: env.emulator.apiBaseUrl, retry: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 5 } });
    await expect(patient.deleteFile('file-never-was')).resolves.toBeUndefined();
    expect(env.emulator.getFaults().deleteFileFailures).toBeNull();
  });

  it('two workers at once: one deletes and records, the other does nothing', async () => {
    const batch = await ingestedWithoutCleanup(2);
    const a = withDeletes(env.worker, 'worker-a');
    const b = withDeletes(env.worker, 'worker-b');
    const outcomes = await Promise.all([cleanUpProviderFiles(a, batch.id), cleanUpProviderFiles(b, batch.id)]);
    expect([...outcomes].sort()).toEqual(['deleted', 'skipped']);
    expect([...a.deletes, ...b.deletes].sort()).toEqual([batch.inputFileId, batch.outputFileId].sort());
    expect(await audits(batch.id, 'provider.files_deleted')).toHaveLength(1);
  });

  it('a worker that loses its lease mid-way records nothing, success or failure; the worker that took over records the deletion once', async () => {
    const batch = await ingestedWithoutCleanup(1);
    const steal = () => db().execute(sql`update batches set lease_owner = 'heir' where id = ${batch.id}`).then(() => undefined);
    // Deleted, but the lease went to another worker meanwhile.
    const slow = withDeletes(env.worker, 'slow', async (_id, n) => (n === 1 ? steal() : undefined));
    expect(await cleanUpProviderFiles(slow, batch.id)).toBe('skipped');
    expect(await row(batch.id)).toMatchObject({ providerFilesDeletedAt: null, providerFilesDeleteAttempts: 0, leaseOwner: 'heir' });
    // Failed, and the lease went meanwhile: the failure is not counted by the loser either.
    await db().execute(sql`update batches set lease_owner = null, lease_expires_at = null where id = ${batch.id}`);
    const unlucky = withDeletes(env.worker, 'unlucky', async (_id, n) => {
      if (n === 1) await steal();
      throw new Error('connection reset');
    });
    expect(await cleanUpProviderFiles(unlucky, batch.id)).toBe('skipped');
    expect(await row(batch.id)).toMatchObject({ providerFilesDeletedAt: null, providerFilesDeleteAttempts: 0, providerFilesDeleteError: null });
    // The heir (its lease run out and taken again here) deletes: the files are gone already, which counts as deleted.
    await db().execute(sql`update batches set lease_owner = null, lease_expires_at = null where id = ${batch.id}`);
    const heir = withDeletes(env.worker, 'heir');
    expect(await cleanUpProviderFiles(heir, batch.id)).toBe('deleted');
    expect(heir.deletes).toEqual([batch.inputFileId, batch.outputFileId]);
    expect(await audits(batch.id, 'provider.files_deleted')).toHaveLength(1);
  });

  it('a database failure while recording gives the lease back and fails the job; the next try records it', async () => {
    const batch = await ingestedWithoutCleanup(1);
    const down = { ...env.worker, name: 'down', db: Object.assign(Object.create(db()) as typeof env.worker.db, { transaction: () => Promise.reject(new Error('connection terminated')) }) };
    await expect(cleanUpProviderFiles(down, batch.id)).rejects.toThrow('connection terminated');
    expect(await row(batch.id)).toMatchObject({ providerFilesDeletedAt: null, providerFilesDeleteAttempts: 0, leaseOwner: null });
    expect(await cleanUpProviderFiles(env.worker, batch.id)).toBe('deleted');
    expect(await audits(batch.id, 'provider.files_deleted')).toHaveLength(1);
  });
});

describe('what administrators see, with the job runner and its sweep', () => {
  let stack: Stack;
  let admin: ToolSession;
  let home: Home;

  beforeAll(async () => {
    stack = await startStack({ role: 'all', emulator: true, env: FAST_BATCH_ENV });
    await stack.browser().launch(stack.devlmsUrl, 'instructor', { task: '1' });
    await stack.browser().launch(stack.devlmsUrl, 'student1', { task: '1' });
    admin = await stack.browser().launch(stack.devlmsUrl, 'admin');
    home = await homeIds(stack);
    await allowLlm(stack.db.db, home.courseId, home.instructorId);
    await activatePrompt(stack.db.db, home, home.taskId);
  }, 60_000);
  afterAll(async () => {
    await stack?.close();
  });

  it('a deletion that keeps failing is on the batch page and noticed on the list; once the provider recovers the sweep deletes and both say so', async () => {
    const db = stack.db.db;
    await submitMany(stack, home, home.taskId, await userIdOf(stack, '5e02'), 2);
    // Every deletion is rate-limited until the test says otherwise (the worker's own retries included).
    stack.emulator!.setFaults({ deleteFileFailures: { count: 100_000, status: 429 } });
    const created = await admin.request('/api/admin/llm-batches/create/', { method: 'POST', json: { scope: 'all' } });
    expect(created.status).toBe(201);
    const id = created.json<{ batches: Array<{ id: number }> }>().batches[0]!.id;
    expect((await admin.post(`/admin/batches/${id}/submit`, {}, { htmx: true })).status).toBe(200);

    const failed = await until('a failed deletion to be counted', async () => {
      const b = await findBatchById(db, id);
      return b && b.providerFilesDeleteAttempts > 0 ? b : undefined;
    }, 40_000, 50);
    expect(failed.ingestedAt).not.toBeNull();
    expect(failed.providerFilesDeletedAt).toBeNull();

    const monitor = textOf((await admin.get(`/admin/batches/${id}`)).html);
    expect(monitor).toMatch(/Files at the provider\s*Problem: not deleted yet: \d+ attempts?, retried automatically; last error: Could not delete 2 of 2 files at the provider: input file file-\S+: OpenAI refused to delete file .*HTTP 429/);
    const list = textOf((await admin.get('/admin/batches')).html);
    expect(list).toMatch(new RegExp(`Files at the provider not deleted: deleting the request and result files of one batch at the provider failed, so the provider still holds them\\. Each batch's page gives the last error\\.\\s*Batch ${id}\\s*: \\d+ attempts? failed so far, retried automatically`));

    // The provider recovers: the sweep hands the batch out again after its pause, and the deletion goes through.
    stack.emulator!.setFaults({});
    const done = await until('the sweep to delete the files', async () => {
      const b = await findBatchById(db, id);
      return b?.providerFilesDeletedAt ? b : undefined;
    }, 40_000, 50);
    expect(done.providerFilesDeleteError).toBeNull();
    for (const fileId of [done.inputFileId, done.outputFileId]) expect(stack.emulator!.emulator.context.store.files.has(fileId!)).toBe(false);
    const after = (await admin.get(`/admin/batches/${id}`)).html;
    expect(textOf(after)).toMatch(/Files at the provider\s*deleted on \S/);
    expect(after).toContain(`<time datetime="${done.providerFilesDeletedAt!.toISOString()}">`);
    expect(textOf((await admin.get('/admin/batches')).html)).not.toContain('Files at the provider not deleted');
    const audit = await db.execute<{ n: number }>(sql`select count(*)::int as n from audit_log where entity_id = ${String(id)} and action = 'provider.files_deleted'`);
    expect(audit.rows[0]!.n).toBe(1);
  }, 90_000);
});
