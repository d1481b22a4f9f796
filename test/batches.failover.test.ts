import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { sql } from 'drizzle-orm';
import type { Config } from '../src/config.js';
import { startEmulator, type RunningEmulator } from '../src/emulator/index.js';
import { silentLogger } from '../src/log.js';
import { ingestBatch } from '../src/models/batches/batch-ingest.service.js';
import { pollBatch } from '../src/models/batches/batch-poll.service.js';
import { sendBatch } from '../src/models/batches/batch-send.service.js';
import type { BatchWorker } from '../src/models/batches/batch-worker.js';
import { findBatchById, type BatchRow } from '../src/models/batches/batches.repository.js';
import { createBatches, requestSubmit } from '../src/models/batches/batches.service.js';
import { healthMarks, markUnhealthy, saveFailoverSettings } from '../src/models/failover/failover.repository.js';
import { failoverModelFor } from '../src/models/failover/failover-models.js';
import { probeMarkedProviders, providerHealth } from '../src/models/failover/provider-health.service.js';
import { probeProvidersJob } from '../src/jobs/probe-providers.job.js';
import { createTestDatabase, type TestDatabase } from './helpers/db.js';
import { bulkSubmit, seedTenant, type Tenant } from './helpers/batch-fixtures.js';
import { drive, submitSteps, testConfig, testWorker } from './helpers/batch-driver.js';

/**
 * Failover (issue 20, item 6), against the emulator over HTTP (OpenAI and Anthropic sides), driven as the job
 * runner drives batches: a batch that expires, fails or passes the platform's SLA at OpenAI moves what it never ran
 * to Anthropic by itself; each item is graded once and charged once, on the batch that graded it.
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

type Policy = { mode?: 'off' | 'automatic'; slaMinutes?: number; approves?: string[] };

/** An OpenAI tenant whose course approves `approves` (default both providers), with the platform's failover policy. */
async function tenant(policy: Policy = {}): Promise<Tenant> {
  const t = await seedTenant(db.db, { provider: 'openai' });
  await db.db.execute(sql`update course_privacy set approved_providers = ${sql.param(policy.approves ?? ['openai', 'anthropic'])}::text[] where course_id = ${t.courseId}`);
  await saveFailoverSettings(db.db, t.platformId, t.adminId, { mode: policy.mode ?? 'automatic', providerOrder: ['openai', 'anthropic'], failoverModels: {}, slaMinutes: policy.slaMinutes ?? 1440 });
  return t;
}

async function newBatch(t: Tenant, n: number): Promise<{ items: number[]; batch: BatchRow }> {
  const items = await bulkSubmit(db.db, config, t, n);
  const { batches: [batch] } = await db.db.transaction((tx) => createBatches(tx, config.batches, t.admin, { scope: 'selected', ids: items }, {}));
  await requestSubmit(db.db, t.admin, batch!.id);
  return { items, batch: batch! };
}

const rows = async <T extends Record<string, unknown>>(q: ReturnType<typeof sql>) => (await db.db.execute<T>(q)).rows;
const failoverOf = async (batchId: number) => (await rows<{ id: number }>(sql`select id from batches where failed_over_from = ${batchId}`)).map((r) => Number(r.id));
const itemStates = (items: number[]) => rows<{ id: number; status: string; last_error: string | null }>(sql`select id, status, last_error from queue_items where id = any(${sql.param(items)}::bigint[]) order by id`);
const assessmentsPerItem = (items: number[]) =>
  rows<{ queue_item_id: number; n: number; batch_id: number }>(sql`
    select queue_item_id, count(*)::int as n, min(batch_id) as batch_id from assessments where queue_item_id = any(${sql.param(items)}::bigint[]) group by queue_item_id order by queue_item_id`);
/** Each batch's charges in the ledger: how many, their sum, and how many distinct requests they are for. */
const chargesOf = async (batchId: number) => {
  const [r] = await rows<{ n: number; total: number; keys: number }>(sql`
    select count(*)::int as n, coalesce(sum(amount_micros), 0)::int8 as total, count(distinct idempotency_key)::int as keys from cost_ledger where batch_id = ${batchId} and kind = 'charge'`);
  return { n: r!.n, total: Number(r!.total), keys: r!.keys };
};
/** Money still reserved for these items: reservations − releases − what charges settled. */
const committed = async (items: number[]) =>
  Number(
    (
      await rows<{ n: number }>(sql`
        select coalesce(sum(case kind when 'reservation' then amount_micros when 'release' then -amount_micros else -settled_micros end), 0)::int8 as n
        from cost_ledger where queue_item_id = any(${sql.param(items)}::bigint[])`)
    )[0]!.n,
  );
const audits = (platformId: number, action: string) => rows<{ entity_id: string; details: Record<string, unknown> }>(sql`select entity_id, details from audit_log where platform_id = ${platformId} and action = ${action} order by id`);

describe('failover after an expired OpenAI batch with partial results', () => {
  it('ingests the partial results, sends the rest to Anthropic by itself, and grades and charges each item once', async () => {
    const t = await tenant();
    emulator.setFaults({ expireNextBatches: 1, expireCompletedFraction: 0.5 });
    const { items, batch } = await newBatch(t, 6);
    await drive(w, submitSteps([batch.id]));

    const first = (await findBatchById(db.db, batch.id))!;
    expect(first).toMatchObject({ status: 'expired', provider: 'openai', requestCompleted: 3 });
    const [nextId] = await failoverOf(batch.id);
    const second = (await findBatchById(db.db, nextId!))!;
    expect(second).toMatchObject({ provider: 'anthropic', model: 'claude-haiku-4-5', status: 'completed', failedOverFrom: batch.id, requestTotal: 3 });
    expect(second.failoverReason).toMatch(new RegExp(`^Batch ${batch.id} expired at OpenAI.*Its 3 unfinished items moved to Anthropic \\(claude-haiku-4-5\\)\\.$`));
    expect(second.submitRequestedAt).not.toBeNull();

    // Every item completed with exactly one assessment: three from each batch.
    expect((await itemStates(items)).map((s) => s.status)).toEqual(Array(6).fill('completed'));
    const per = await assessmentsPerItem(items);
    expect(per.map((a) => a.n)).toEqual(Array(6).fill(1));
    expect(per.filter((a) => Number(a.batch_id) === batch.id)).toHaveLength(3);
    expect(per.filter((a) => Number(a.batch_id) === nextId)).toHaveLength(3);

    // Costs on both sides: what OpenAI billed for its three stays charged to the first batch, Anthropic's to the second.
    const [c1, c2] = [await chargesOf(batch.id), await chargesOf(nextId!)];
    expect([c1.n, c1.keys, c1.total]).toEqual([3, 3, Number(first.actualCostMicros)]);
    expect([c2.n, c2.keys, c2.total]).toEqual([3, 3, Number(second.actualCostMicros)]);
    expect(c1.total).toBeGreaterThan(0);
    expect(c2.total).toBeGreaterThan(0);
    expect(await committed(items)).toBe(0);

    // OpenAI is marked unhealthy with the reason; the move is audited on the new batch.
    const [mark] = (await healthMarks(db.db, t.platformId)).filter((m) => m.unhealthySince);
    expect(mark).toMatchObject({ provider: 'openai', batchId: batch.id });
    expect(mark!.reason).toMatch(new RegExp(`^Batch ${batch.id} expired at OpenAI`));
    const [moved] = await audits(t.platformId, 'batch.failover');
    expect(moved).toMatchObject({ entity_id: String(nextId), details: { from: batch.id, provider: 'anthropic', model: 'claude-haiku-4-5', requests: 3 } });

    // The first batch's results read again (a worker that re-ran its ingestion): nothing graded or charged twice,
    // and no second failover batch.
    await db.db.execute(sql`update batches set ingested_at = null, ingested_lines = 0, lease_owner = null, lease_expires_at = null where id = ${batch.id}`);
    await ingestBatch(w, batch.id);
    expect((await assessmentsPerItem(items)).map((a) => a.n)).toEqual(Array(6).fill(1));
    expect((await chargesOf(batch.id)).n).toBe(3);
    expect((await chargesOf(nextId!)).n).toBe(3);
    expect(await failoverOf(batch.id)).toEqual([nextId]);
  });

  it('with the policy off, the unfinished items go back to the queue as before, and no provider is marked', async () => {
    const t = await tenant({ mode: 'off' });
    emulator.setFaults({ expireNextBatches: 1, expireCompletedFraction: 0.5 });
    const { items, batch } = await newBatch(t, 4);
    await drive(w, submitSteps([batch.id]));
    expect((await findBatchById(db.db, batch.id))!.status).toBe('expired');
    expect(await failoverOf(batch.id)).toEqual([]);
    const states = await itemStates(items);
    expect(states.map((s) => s.status).sort()).toEqual(['completed', 'completed', 'queued', 'queued']);
    expect(states.find((s) => s.status === 'queued')!.last_error).toMatch(/^Not run: .*expired/);
    expect(await healthMarks(db.db, t.platformId)).toEqual([]);
    expect(await committed(items)).toBe(0);
  });

  it('a course that approves only OpenAI: nothing moves; the items go back to the queue saying why', async () => {
    const t = await tenant({ approves: ['openai'] });
    emulator.setFaults({ expireNextBatches: 1, expireCompletedFraction: 0.5 });
    const { items, batch } = await newBatch(t, 4);
    await drive(w, submitSteps([batch.id]));
    expect(await failoverOf(batch.id)).toEqual([]);
    const queued = (await itemStates(items)).filter((s) => s.status === 'queued');
    expect(queued).toHaveLength(2);
    for (const s of queued) expect(s.last_error).toBe('Not failed over: no other provider can take them (the courses do not approve Anthropic). Back in the queue.');
    const [skipped] = await audits(t.platformId, 'batch.failover_skipped');
    expect(skipped).toMatchObject({ entity_id: String(batch.id), details: { provider: 'openai', items: 2 } });
    // The provider is still marked: the batch expired there.
    expect((await healthMarks(db.db, t.platformId)).map((m) => [m.provider, m.unhealthySince !== null])).toEqual([['openai', true]]);
    expect(await committed(items)).toBe(0);
  });

  it('a batch that fails validation at OpenAI moves every item to Anthropic', async () => {
    const t = await tenant();
    emulator.setFaults({ failNextBatches: 1 });
    const { items, batch } = await newBatch(t, 3);
    await drive(w, submitSteps([batch.id]));
    expect((await findBatchById(db.db, batch.id))!.status).toBe('failed');
    const [nextId] = await failoverOf(batch.id);
    expect((await findBatchById(db.db, nextId!))!).toMatchObject({ provider: 'anthropic', status: 'completed', requestTotal: 3 });
    expect((await assessmentsPerItem(items)).map((a) => [a.n, Number(a.batch_id)])).toEqual(Array(3).fill([1, nextId]));
  });
});

describe('failover refused', () => {
  it('skips a provider marked unhealthy; once its probe succeeds the next failover goes there', async () => {
    const t = await tenant();
    await markUnhealthy(db.db, t.platformId, 'anthropic', 'Batch 1 expired at Anthropic.', null);
    emulator.setFaults({ expireNextBatches: 1, expireCompletedFraction: 0.5 });
    const first = await newBatch(t, 2);
    await drive(w, submitSteps([first.batch.id]));
    expect(await failoverOf(first.batch.id)).toEqual([]);
    const [queued] = (await itemStates(first.items)).filter((s) => s.status === 'queued');
    expect(queued!.last_error).toBe('Not failed over: no other provider can take them (Anthropic is marked unhealthy). Back in the queue.');
    expect(await committed(first.items)).toBe(0);

    // Anthropic answers its probe; OpenAI (marked by the expiry) is probed too and answers as well.
    const probed = (await probeMarkedProviders(db.db, w.providers, silentLogger, 0)).filter((o) => o.platformId === t.platformId);
    expect(probed.map((o) => [o.provider, o.ok])).toEqual([['anthropic', true], ['openai', true]]);
    emulator.setFaults({ expireNextBatches: 1, expireCompletedFraction: 0.5 });
    const second = await newBatch(t, 2);
    expect(second.batch.provider).toBe('openai');
    await drive(w, submitSteps([second.batch.id]));
    const [nextId] = await failoverOf(second.batch.id);
    expect((await findBatchById(db.db, nextId!))!).toMatchObject({ provider: 'anthropic', status: 'completed', requestTotal: 1 });
  });

  it('a budget that cannot take the failover batch leaves the items queued, saying why, with nothing reserved', async () => {
    const t = await tenant();
    emulator.setFaults({ expireNextBatches: 1, expireCompletedFraction: 0.5 });
    const { items, batch } = await newBatch(t, 2);
    await sendBatch(w, batch.id);
    // Frozen after the first batch left: its results are still read and charged, but nothing new is reserved.
    await db.db.execute(sql`insert into budgets (platform_id, course_id, month, limit_micros, frozen) values (${t.platformId}, null, date_trunc('month', now())::date, 100000000, true)`);
    await drive(w, [{ step: 'poll', batchId: batch.id }]);
    expect((await findBatchById(db.db, batch.id))!.status).toBe('expired');
    expect(await failoverOf(batch.id)).toEqual([]);
    const queued = (await itemStates(items)).filter((s) => s.status === 'queued');
    expect(queued).toHaveLength(1);
    expect(queued[0]!.last_error).toMatch(/^Not failed over: .*frozen.*\. Back in the queue\.$/);
    expect((await audits(t.platformId, 'batch.failover_skipped')).map((a) => a.entity_id)).toEqual([String(batch.id)]);
    // The savepoint took back the batch it began: no batch, request or reservation of it is left.
    expect(await rows(sql`select id from batches where platform_id = ${t.platformId} and id <> ${batch.id}`)).toEqual([]);
    expect(await committed(items)).toBe(0);
  });
});

describe('provider health', () => {
  it('warns of expired batches and a high request error rate, without marking, and gives the median turnaround', async () => {
    const t = await tenant({ mode: 'off' });
    emulator.setFaults({ lineErrorRate: 0.5, lineErrorStatus: 400 });
    const { batch } = await newBatch(t, 20);
    await drive(w, submitSteps([batch.id]));
    emulator.setFaults({ expireNextBatches: 1, expireCompletedFraction: 0.5 });
    const expired = await newBatch(t, 2);
    await drive(w, submitSteps([expired.batch.id]));
    const { providers } = await providerHealth(db.db, t.platformId, w.providers.names);
    const openai = providers.find((p) => p.provider === 'openai')!;
    expect(openai.status).toBe('warning');
    expect(openai.mark).toBeNull();
    expect(openai.figures).toMatchObject({ ended: 2, expired: 1, failed: 0, stuck: 0 });
    expect(openai.figures.failedRequests).toBeGreaterThanOrEqual(5);
    expect(openai.figures.medianTurnaroundMinutes).not.toBeNull();
    expect(openai.reasons[0]).toBe('1 batch expired in the last 24 hours.');
    expect(openai.reasons[1]).toMatch(/^\d+ % of requests failed in the last 24 hours \(\d+ of 2[12]\)\.$/);
    expect(providers.find((p) => p.provider === 'anthropic')).toMatchObject({ status: 'healthy', reasons: [] });

    // A batch still running a day after it was sent is stuck past the SLA.
    await db.db.execute(sql`update batches set status = 'processing', finished_at = null, submitted_at = now() - interval '25 hours' where id = ${expired.batch.id}`);
    const later = (await providerHealth(db.db, t.platformId, w.providers.names)).providers.find((p) => p.provider === 'openai')!;
    expect(later.figures.stuck).toBe(1);
    expect(later.reasons).toContain('1 batch still running past the SLA (24 h).');
  });
});

describe('the SLA', () => {
  it('a batch still running past the platform\'s SLA is cancelled at OpenAI and what it did not run fails over', async () => {
    const t = await tenant({ slaMinutes: 15 });
    emulator.setFaults({ timings: { inProgressMs: 60_000 } });
    const { items, batch } = await newBatch(t, 3);
    await sendBatch(w, batch.id);
    // Sent 20 minutes ago, as far as the SLA is concerned.
    await db.db.execute(sql`update batches set submitted_at = now() - interval '20 minutes', next_poll_at = now() where id = ${batch.id}`);
    emulator.setFaults({});
    const steps = await pollBatch(w, batch.id);
    expect(steps.map((s) => s.step)).toContain('cancel');
    const overdue = (await findBatchById(db.db, batch.id))!;
    expect(overdue.overdueAt).not.toBeNull();
    expect(overdue.error).toBe('Still not finished 0.3 h after it was sent (the platform\'s SLA), so it was cancelled at OpenAI; finished requests are kept, the rest fail over to the next provider.');
    expect((await audits(t.platformId, 'batch.sla_exceeded')).map((a) => a.entity_id)).toEqual([String(batch.id)]);
    await drive(w, steps);

    expect((await findBatchById(db.db, batch.id))!.status).toBe('cancelled');
    const [nextId] = await failoverOf(batch.id);
    const next = (await findBatchById(db.db, nextId!))!;
    expect(next).toMatchObject({ provider: 'anthropic', status: 'completed' });
    expect(next.failoverReason).toMatch(new RegExp(`^Batch ${batch.id} was cancelled at OpenAI, past its time limit`));
    expect((await assessmentsPerItem(items)).map((a) => a.n)).toEqual([1, 1, 1]);
    expect((await itemStates(items)).map((s) => s.status)).toEqual(['completed', 'completed', 'completed']);
  });

  it('with the policy off, the SLA cancels nothing', async () => {
    const t = await tenant({ mode: 'off', slaMinutes: 15 });
    emulator.setFaults({ timings: { inProgressMs: 60_000 } });
    const { batch } = await newBatch(t, 1);
    await sendBatch(w, batch.id);
    await db.db.execute(sql`update batches set submitted_at = now() - interval '20 minutes', next_poll_at = now() where id = ${batch.id}`);
    const steps = await pollBatch(w, batch.id);
    expect(steps.map((s) => s.step)).toEqual(['poll']);
    expect((await findBatchById(db.db, batch.id))!).toMatchObject({ cancelRequestedAt: null, overdueAt: null });
  });
});

describe('a provider marked unhealthy', () => {
  it('is skipped when batches are made, where the course approves another provider, with the reason on the batch', async () => {
    const t = await tenant();
    await markUnhealthy(db.db, t.platformId, 'openai', 'Batch 1 expired at OpenAI.', null);
    const items = await bulkSubmit(db.db, config, t, 2);
    const { batches } = await db.db.transaction((tx) => createBatches(tx, config.batches, t.admin, { scope: 'selected', ids: items }, {}));
    expect(batches.map((b) => [b.provider, b.model])).toEqual([['anthropic', 'claude-haiku-4-5']]);
    expect(batches[0]!.failoverReason).toBe('OpenAI is marked unhealthy (Batch 1 expired at OpenAI. Skipped until a probe succeeds), so items made for it went to Anthropic (claude-haiku-4-5) instead.');
    const [stored] = await rows<{ failover_reason: string }>(sql`select failover_reason from batches where id = ${batches[0]!.id}`);
    expect(stored!.failover_reason).toBe(batches[0]!.failoverReason);
    expect((await audits(t.platformId, 'batch.rerouted')).map((a) => a.entity_id)).toEqual([String(batches[0]!.id)]);
    // Reserved at Claude Haiku's batch prices, not GPT-4o-mini's.
    const [reserved] = await rows<{ total: number }>(sql`select sum(amount_micros)::int8 as total from cost_ledger where batch_id = ${batches[0]!.id} and kind = 'reservation'`);
    expect(Number(reserved!.total)).toBe(batches[0]!.estCostMicros);
    const [queuedEst] = await rows<{ total: number }>(sql`select sum(est_cost_micros)::int8 as total from queue_items where id = any(${sql.param(items)}::bigint[])`);
    expect(batches[0]!.estCostMicros).not.toBe(Number(queuedEst!.total));
  });

  it('is kept where the course approves no other provider, and when the policy is off', async () => {
    const only = await tenant({ approves: ['openai'] });
    await markUnhealthy(db.db, only.platformId, 'openai', 'Batch 1 expired at OpenAI.', null);
    const a = await bulkSubmit(db.db, config, only, 1);
    const made = await db.db.transaction((tx) => createBatches(tx, config.batches, only.admin, { scope: 'selected', ids: a }, {}));
    expect(made.batches.map((b) => [b.provider, b.failoverReason])).toEqual([['openai', null]]);

    const off = await tenant({ mode: 'off' });
    await markUnhealthy(db.db, off.platformId, 'openai', 'Batch 1 expired at OpenAI.', null);
    const b = await bulkSubmit(db.db, config, off, 1);
    const kept = await db.db.transaction((tx) => createBatches(tx, config.batches, off.admin, { scope: 'selected', ids: b }, {}));
    expect(kept.batches.map((x) => x.provider)).toEqual(['openai']);
  });

  it('stays marked while its probe fails, and is cleared by the first probe that succeeds', async () => {
    const t = await tenant();
    await markUnhealthy(db.db, t.platformId, 'openai', 'Batch 1 expired at OpenAI.', null);
    emulator.setFaults({ listBatchesFailures: { count: 1, status: 500 } });
    const failed = (await probeMarkedProviders(db.db, w.providers, silentLogger, 0)).filter((o) => o.platformId === t.platformId);
    expect(failed).toEqual([{ platformId: t.platformId, provider: 'openai', ok: false, error: expect.stringMatching(/500|server/i) as unknown as string }]);
    let [mark] = await healthMarks(db.db, t.platformId);
    expect(mark).toMatchObject({ probes: 1, lastProbeError: failed[0]!.error });
    expect(mark!.unhealthySince).not.toBeNull();
    let health = await providerHealth(db.db, t.platformId, w.providers.names);
    expect(health.providers.find((p) => p.provider === 'openai')).toMatchObject({ status: 'unhealthy', reasons: ['Marked unhealthy: Batch 1 expired at OpenAI. Skipped for new batches until a probe succeeds.'] });

    const cleared = (await probeMarkedProviders(db.db, w.providers, silentLogger, 0)).filter((o) => o.platformId === t.platformId);
    expect(cleared).toEqual([{ platformId: t.platformId, provider: 'openai', ok: true, error: null }]);
    [mark] = await healthMarks(db.db, t.platformId);
    expect(mark).toMatchObject({ unhealthySince: null, probes: 2, lastProbeError: null });
    expect(mark!.clearedAt).not.toBeNull();
    expect((await audits(t.platformId, 'provider.probe_failed')).length).toBe(1);
    expect((await audits(t.platformId, 'provider.probe_succeeded')).length).toBe(1);
    health = await providerHealth(db.db, t.platformId, w.providers.names);
    expect(health.providers.map((p) => [p.provider, p.status])).toEqual([['openai', 'healthy'], ['anthropic', 'healthy']]);
    // Nothing left to probe: a cleared mark is not probed again.
    expect((await probeMarkedProviders(db.db, w.providers, silentLogger, 0)).filter((o) => o.platformId === t.platformId)).toEqual([]);

    // Batches go to OpenAI again.
    const items = await bulkSubmit(db.db, config, t, 1);
    const { batches } = await db.db.transaction((tx) => createBatches(tx, config.batches, t.admin, { scope: 'selected', ids: items }, {}));
    expect(batches.map((b) => b.provider)).toEqual(['openai']);
  });

  it('the worker\'s job probes Anthropic at Anthropic\'s API (its listing refused: the mark stays, then cleared)', async () => {
    const t = await tenant();
    await markUnhealthy(db.db, t.platformId, 'anthropic', 'Batch 2 expired at Anthropic.', null);
    // The worker's job: without providers (a bare runner) it probes nothing; with them, Anthropic's listing is refused.
    await probeProvidersJob.handle({ db: db.db, logger: silentLogger }, {});
    expect((await healthMarks(db.db, t.platformId))[0]).toMatchObject({ provider: 'anthropic', probes: 0 });
    emulator.setFaults({ listBatchesFailures: { count: 1, status: 429 } });
    await probeProvidersJob.handle({ db: db.db, logger: silentLogger, providers: w.providers }, {});
    const [out] = await healthMarks(db.db, t.platformId);
    expect(out).toMatchObject({ provider: 'anthropic', probes: 1, lastProbeError: expect.stringMatching(/429|rate/i) as unknown as string });
    expect(out!.unhealthySince).not.toBeNull();
    expect((await probeMarkedProviders(db.db, w.providers, silentLogger, 0)).filter((o) => o.platformId === t.platformId)).toMatchObject([{ provider: 'anthropic', ok: true }]);
  });
});

describe('the failover model', () => {
  it('is the same tier at the other provider (data/prices stand-ins), or the platform\'s choice', () => {
    expect(failoverModelFor('gpt-4o-mini', 'anthropic', {})).toBe('claude-haiku-4-5');
    expect(failoverModelFor('gpt-4o', 'anthropic', {})).toBe('claude-sonnet-4-6');
    expect(failoverModelFor('claude-haiku-4-5', 'openai', {})).toBe('gpt-4o-mini');
    expect(failoverModelFor('claude-sonnet-4-6', 'openai', {})).toBe('gpt-4o');
    expect(failoverModelFor('gpt-4o-mini', 'anthropic', { anthropic: 'claude-sonnet-4-6' })).toBe('claude-sonnet-4-6');
    // A chosen model the provider does not have is ignored.
    expect(failoverModelFor('gpt-4o-mini', 'anthropic', { anthropic: 'gpt-4o' })).toBe('claude-haiku-4-5');
  });
});
