import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { sql } from 'drizzle-orm';
import { loadConfig, type Config } from '../src/config.js';
import { startEmulator, type RunningEmulator } from '../src/emulator/index.js';
import { ingestBatch } from '../src/models/batches/batch-ingest.service.js';
import { sendBatch } from '../src/models/batches/batch-send.service.js';
import { dueWork } from '../src/models/batches/batch-work.repository.js';
import { findBatchById } from '../src/models/batches/batches.repository.js';
import { createBatches, requestSubmit } from '../src/models/batches/batches.service.js';
import { queueFilterSchema } from '../src/models/queue/queue.filters.js';
import { createTestDatabase, type TestDatabase } from './helpers/db.js';
import { bulkSubmit, seedTenant, type Tenant } from './helpers/batch-fixtures.js';
import { drive, FAST_BATCH_ENV, pollUntilFinished, submitSteps, testWorker } from './helpers/batch-driver.js';
import { testEnv } from './helpers/stack.js';
import { until } from './helpers/until.js';
import { startWorkerProcess, type WorkerProcess } from './helpers/worker-process.js';

/**
 * (a) a worker process killed mid-ingestion and replaced, (b) 1,000 submissions through every fault at once,
 * (c) two workers racing on one batch. What must hold in all three: every item ends with exactly one assessment
 * or failed with a reason, nothing graded or charged twice, nothing stuck.
 */

let db: TestDatabase;
let emulator: RunningEmulator;
let env: Record<string, string>;
let config: Config;

beforeAll(async () => {
  db = await createTestDatabase();
  emulator = await startEmulator({ port: 0, timings: { validatingMs: 0, inProgressMs: 0, finalizingMs: 0 } });
  env = testEnv(db, 0, { OPENAI_BASE_URL: emulator.apiBaseUrl, ...FAST_BATCH_ENV, BATCH_MAX_SIZE: '1000', BATCH_LEASE_MS: '1000', BATCH_INGEST_CHUNK: '20' });
  config = loadConfig(env);
});
afterAll(async () => {
  await emulator.close();
  await db.drop();
});

const one = async <T extends Record<string, unknown>>(q: ReturnType<typeof sql>) => (await db.db.execute<T>(q)).rows[0]!;

/** The invariants over a tenant's items: terminal, one assessment per completed item, one charge each. */
async function invariants(t: Tenant) {
  return one<{ items: number; completed: number; failed: number; failed_without_reason: number; open: number; assessments: number; assessed_items: number; charges: number; charged_items: number; completed_without: number }>(sql`
    select count(*)::int as items,
           count(*) filter (where q.status = 'completed')::int as completed,
           count(*) filter (where q.status = 'failed')::int as failed,
           count(*) filter (where q.status = 'failed' and coalesce(q.last_error, '') = '')::int as failed_without_reason,
           count(*) filter (where q.status not in ('completed', 'failed'))::int as open,
           (select count(*) from assessments a where a.task_id = ${t.taskId})::int as assessments,
           (select count(distinct a.queue_item_id) from assessments a where a.task_id = ${t.taskId})::int as assessed_items,
           (select count(*) from cost_ledger l join queue_items i on i.id = l.queue_item_id where i.task_id = ${t.taskId} and l.kind = 'charge')::int as charges,
           (select count(distinct l.queue_item_id) from cost_ledger l join queue_items i on i.id = l.queue_item_id where i.task_id = ${t.taskId} and l.kind = 'charge')::int as charged_items,
           count(*) filter (where q.status = 'completed' and not exists (select 1 from assessments a where a.queue_item_id = q.id))::int as completed_without
    from queue_items q where q.task_id = ${t.taskId}`);
}

function startWorker(): WorkerProcess {
  return startWorkerProcess({ ...env, LOG_LEVEL: 'info' });
}

describe('reliability', () => {
  it('(a) a worker SIGKILLed while ingesting is replaced, and every item ends with exactly one assessment', async () => {
    const t = await seedTenant(db.db);
    const items = await bulkSubmit(db.db, config, t, 600);
    const { batches: [batch] } = await db.db.transaction((tx) => createBatches(tx, config.batches, t.admin, { scope: 'selected', ids: items }, {}));
    await requestSubmit(db.db, t.admin, batch!.id);

    const first = startWorker();
    const caught = await until('ingestion to start', async () => {
      const b = await findBatchById(db.db, batch!.id);
      return b && b.ingestedLines > 0 ? b : undefined;
    }, 30_000, 5);
    first.child.kill('SIGKILL');
    expect(await first.exited).toBeNull();
    const left = (await findBatchById(db.db, batch!.id))!;
    expect(left.ingestedAt).toBeNull();
    expect(left.ingestedLines).toBeLessThan(600);
    expect(left.leaseOwner).toMatch(/^worker-/);
    expect(caught.ingestedLines).toBeGreaterThan(0);

    const second = startWorker();
    try {
      // The ingest job ends by deleting the batch's files at the provider, under the lease.
      const done = await until('the replacement worker to finish ingesting and delete the provider files', async () => {
        const b = await findBatchById(db.db, batch!.id);
        return b?.ingestedAt && b.providerFilesDeletedAt ? b : undefined;
      }, 45_000, 50).catch((err) => {
        throw new Error(`${err.message}\n--- first worker:\n${first.out()}\n--- second worker:\n${second.out()}`);
      });
      expect(done.ingestedLines).toBe(600);
      expect(done.leaseOwner).toBeNull();
      const inv = await invariants(t);
      expect(inv).toMatchObject({ items: 600, completed: 600, open: 0, assessments: 600, assessed_items: 600, charges: 600, charged_items: 600, completed_without: 0 });
      const sums = await one<{ cost: number; input: number }>(sql`select sum(actual_cost_micros)::int8 as cost, sum(input_tokens)::int8 as input from assessments where batch_id = ${batch!.id}`);
      // Batch totals were added chunk by chunk, each chunk once: they equal the sums over the assessments.
      expect(done.actualCostMicros).toBe(Number(sums.cost));
      expect(done.inputTokens).toBe(Number(sums.input));
    } finally {
      second.child.kill('SIGTERM');
      await second.exited;
    }
  }, 90_000);

  it('(b) 1,000 submissions with faults on (5% line errors, an expired batch, upload 500s, malformed answers) all end completed or failed with a reason', async () => {
    emulator.setFaults({ seed: 'reliability', lineErrorRate: 0.05, expireNextBatches: 1, uploadFailures: { count: 2, status: 500 }, malformedOutputRate: 0.02 });
    const t = await seedTenant(db.db);
    await bulkSubmit(db.db, config, t, 1000);
    const quick = { ...config, batches: { ...config.batches, ingestChunk: 500 } };
    const workers = [testWorker(db.db, quick, 'w1'), testWorker(db.db, quick, 'w2')];
    const filter = queueFilterSchema.parse({ task: t.taskId, status: 'queued' });
    const statuses = new Set<string>();
    for (let round = 1; round <= 6; round += 1) {
      const waiting = await one<{ n: number }>(sql`select count(*)::int as n from queue_items where task_id = ${t.taskId} and status = 'queued'`);
      if (waiting.n === 0) break;
      const { batches } = await db.db.transaction((tx) => createBatches(tx, config.batches, t.admin, { scope: 'all', filter }, { maxPerBatch: 100 }));
      for (const b of batches) await requestSubmit(db.db, t.admin, b.id);
      await drive(workers, submitSteps(batches.map((b) => b.id)), 60_000);
      for (const b of batches) statuses.add((await findBatchById(db.db, b.id))!.status);
    }
    expect(statuses).toContain('expired');
    const inv = await invariants(t);
    expect(inv.items).toBe(1000);
    expect(inv.open).toBe(0);
    expect(inv.failed_without_reason).toBe(0);
    expect(inv.completed + inv.failed).toBe(1000);
    expect(inv.assessments).toBe(inv.completed);
    expect(inv.assessed_items).toBe(inv.completed);
    expect(inv.charged_items).toBe(inv.completed);
    expect(inv.charges).toBe(inv.completed);
    expect(inv.completed_without).toBe(0);
    const flagged = await one<{ n: number }>(sql`select count(*)::int as n from assessments where task_id = ${t.taskId} and flags @> '[{"code":"malformed_json"}]'`);
    expect(flagged.n).toBeGreaterThan(0);
    const stuck = await one<{ n: number }>(sql`select count(*)::int as n from batches b where b.platform_id = ${t.platformId} and b.ingested_at is null`);
    expect(stuck.n).toBe(0);
    // Nothing is left reserved: every reservation was settled by its charge or released by its failure, never both.
    const reserved = await one<{ open: number; both: number }>(sql`
      select count(*) filter (where s.n = 0)::int as open, count(*) filter (where s.n > 1)::int as both
      from cost_ledger r join queue_items i on i.id = r.queue_item_id
      cross join lateral (
        select count(*)::int as n from cost_ledger x
        where x.idempotency_key in ('release:' || substr(r.idempotency_key, 9), 'charge:' || substr(r.idempotency_key, 9))
          and (x.kind = 'release' or x.settled_micros = r.amount_micros)) s
      where i.task_id = ${t.taskId} and r.kind = 'reservation'`);
    expect(reserved).toEqual({ open: 0, both: 0 });
    emulator.setFaults({});
  }, 90_000);

  it('(c) two workers racing on one batch apply each transition once', async () => {
    const t = await seedTenant(db.db);
    const items = await bulkSubmit(db.db, config, t, 50);
    const { batches: [batch] } = await db.db.transaction((tx) => createBatches(tx, config.batches, t.admin, { scope: 'selected', ids: items }, {}));
    await requestSubmit(db.db, t.admin, batch!.id);
    const a = testWorker(db.db, config, 'racer-a');
    const b = testWorker(db.db, config, 'racer-b');

    const sent = await Promise.all([sendBatch(a, batch!.id), sendBatch(b, batch!.id)]);
    expect(sent.flat().map((s) => s.step)).toEqual(['poll']);
    await pollUntilFinished([a, b], batch!.id);
    const ingest = await Promise.all([ingestBatch(a, batch!.id), ingestBatch(b, batch!.id)]);
    expect(ingest.flat()).toEqual([]);
    const done = (await findBatchById(db.db, batch!.id))!;
    expect(done.ingestedAt).not.toBeNull();

    const audit = await db.db.execute<{ action: string; n: number }>(sql`
      select action, count(*)::int as n from audit_log where entity_type = 'batch' and entity_id = ${String(batch!.id)} and action like 'batch.%' group by action order by action`);
    expect(Object.fromEntries(audit.rows.map((r) => [r.action, r.n]))).toEqual({ 'batch.completed': 1, 'batch.created': 1, 'batch.ingested': 1, 'batch.submit_requested': 1, 'batch.submitted': 1 });
    // Every exchange with the provider is audited too (issue 17, item 7): one upload of all 50 requests, one download.
    const exchanges = await db.db.execute<{ action: string; details: Record<string, unknown> }>(sql`
      select action, details from audit_log where entity_type = 'batch' and entity_id = ${String(batch!.id)} and action in ('provider.file_uploaded', 'provider.file_downloaded') order by id`);
    expect(exchanges.rows.map((r) => r.action)).toEqual(['provider.file_uploaded', 'provider.file_downloaded']);
    expect(exchanges.rows[0]!.details).toMatchObject({ provider: 'openai', requests: 50 });
    expect(Number(exchanges.rows[0]!.details.bytes)).toBeGreaterThan(50 * 200);
    expect(exchanges.rows[1]!.details).toMatchObject({ provider: 'openai', lines: 50 });
    const polls = await db.db.execute<{ n: number }>(sql`select count(*)::int as n from audit_log where entity_id = ${String(batch!.id)} and action = 'provider.polled'`);
    expect(polls.rows[0]!.n).toBeGreaterThanOrEqual(1);
    const list = await (await fetch(`${emulator.apiBaseUrl}/batches?limit=100`, { headers: { authorization: 'Bearer x' } })).json() as { data: { metadata: Record<string, string> }[] };
    expect(list.data.filter((x) => x.metadata?.llm_assess_batch_id === String(batch!.id) && x.metadata?.llm_assess_created === done.createdAt.toISOString())).toHaveLength(1);
    expect(await invariants(t)).toMatchObject({ items: 50, completed: 50, assessments: 50, charges: 50, open: 0 });

    // Two sweeps at once hand out disjoint work.
    const t2 = await seedTenant(db.db);
    const more = await bulkSubmit(db.db, config, t2, 20);
    const { batches: created } = await db.db.transaction((tx) => createBatches(tx, config.batches, t2.admin, { scope: 'selected', ids: more }, { maxPerBatch: 10 }));
    for (const c of created) await requestSubmit(db.db, t2.admin, c.id);
    const [s1, s2] = await Promise.all([dueWork(db.db, 60_000), dueWork(db.db, 60_000)]);
    const handed = [...s1!, ...s2!].filter((d) => created.some((c) => c.id === d.id));
    expect(handed.map((d) => d.id).sort()).toEqual(created.map((c) => c.id).sort());
    expect(handed.every((d) => d.step === 'submit')).toBe(true);
  }, 60_000);
});
