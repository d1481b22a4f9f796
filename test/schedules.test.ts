import { describe, expect, it } from '@jest/globals';
import { sql } from 'drizzle-orm';
import { silentLogger } from '../src/log.js';
import { batchSchedulesJob } from '../src/jobs/batch-schedules.job.js';
import { changeSchedule, createSchedule, pauseSchedule, runNextDueSchedule } from '../src/models/schedules/schedules.service.js';
import { scheduleFormSchema, type ScheduleInput } from '../src/models/schedules/schedules.schema.js';
import { cronProblem, nextRunAt } from '../src/models/schedules/schedule-times.js';
import { findBatchById } from '../src/models/batches/batches.repository.js';
import { listRuns } from '../src/models/schedules/schedules.repository.js';
import { bulkSubmit, seedTenant, type Tenant } from './helpers/batch-fixtures.js';
import { drive, submitSteps, useEmulatedBatches } from './helpers/batch-driver.js';
import type { Jobs } from '../src/job-queue.js';
import { etaForQueued, observedThroughput } from '../src/models/queue/eta.js';

/**
 * Issue 20, items 1 and 2: schedules and automatic mode, run by the worker's job against a real PostgreSQL and the
 * OpenAI emulator. Each test has its own tenant; "now" is the real clock, slots are set due by moving next_run_at.
 */
const env = useEmulatedBatches();

const input = (over: Record<string, string> = {}): ScheduleInput =>
  scheduleFormSchema.parse({ name: 'Nightly', trigger: 'interval', intervalMinutes: '1', minItems: '1', maxItems: '100', sending: 'send', ...over });

const dueNow = (id: number) => env.db.db.execute(sql`update batch_schedules set next_run_at = date_trunc('minute', now()) - interval '1 minute' where id = ${id}`);
const batchesOf = async (t: Tenant) => (await env.db.db.execute<{ id: number }>(sql`select id from batches where platform_id = ${t.platformId} order by id`)).rows.map((r) => Number(r.id));
const queued = async (t: Tenant) => Number((await env.db.db.execute<{ n: number }>(sql`select count(*)::int as n from queue_items where platform_id = ${t.platformId} and status = 'queued'`)).rows[0]!.n);
const scheduleRow = async (id: number) =>
  (await env.db.db.execute<{ next_run_at: string; last_run_at: string | null }>(sql`select next_run_at, last_run_at from batch_schedules where id = ${id}`)).rows[0]!;
const runRows = async (id: number) => (await env.db.db.execute<{ outcome: string; message: string; batch_ids: string[] }>(sql`select outcome, message, batch_ids from batch_schedule_runs where schedule_id = ${id} order by id`)).rows;

/** The worker's job, as Agenda runs it each minute (with a job queue that records what it was asked to start). */
async function tick(): Promise<Array<{ name: string; payload: unknown }>> {
  const asked: Array<{ name: string; payload: unknown }> = [];
  const jobs: Jobs = { enqueue: async (name, payload) => void asked.push({ name, payload }) };
  await batchSchedulesJob.handle({ db: env.db.db, logger: silentLogger, config: env.config, jobs }, {});
  return asked;
}

async function scheduleFor(t: Tenant, over: Record<string, string> = {}): Promise<number> {
  return env.db.db.transaction((tx) => createSchedule(tx, t.admin, input(over), new Date()));
}

describe('a schedule firing', () => {
  it('makes and sends a batch of the due items when its slot comes, records the run, audits it and moves to the next slot', async () => {
    const t = await seedTenant(env.db.db);
    const items = await bulkSubmit(env.db.db, env.config, t, 3);
    const id = await scheduleFor(t);
    // Not due yet: the first slot is a minute away.
    expect(await tick()).toEqual([]);
    expect(await batchesOf(t)).toEqual([]);
    await dueNow(id);
    const asked = await tick();
    const [batchId] = await batchesOf(t);
    expect(batchId).toBeDefined();
    expect(asked).toEqual([{ name: 'batch-submit', payload: { batchId } }]);
    const batch = (await findBatchById(env.db.db, batchId!))!;
    expect(batch.requestTotal).toBe(3);
    expect(batch.submitRequestedAt).not.toBeNull();
    expect(batch.notes).toBe('Made by the schedule "Nightly".');
    expect(await queued(t)).toBe(0);
    const [run] = await runRows(id);
    expect(run).toMatchObject({ outcome: 'sent', message: '1 batch of 3 items made and sent.' });
    expect(run!.batch_ids.map(Number)).toEqual([batchId]);
    const s = await scheduleRow(id);
    expect(new Date(s.next_run_at).getTime()).toBeGreaterThan(Date.now());
    expect(s.last_run_at).not.toBeNull();
    const audit = await env.db.db.execute<{ action: string; actor_kind: string }>(sql`select action, actor_kind from audit_log where platform_id = ${t.platformId} and entity_type = 'batch_schedule' order by id`);
    expect(audit.rows).toEqual([
      { action: 'schedule.created', actor_kind: 'user' },
      { action: 'schedule.run.sent', actor_kind: 'system' },
    ]);
    // The worker sends it, the emulator grades it: the items are graded.
    await drive(env.worker, submitSteps([batchId!]));
    expect((await findBatchById(env.db.db, batchId!))!.status).toBe('completed');
    const done = await env.db.db.execute<{ n: number }>(sql`select count(*)::int as n from queue_items where id = any(${sql.param(items)}::bigint[]) and status = 'completed'`);
    expect(Number(done.rows[0]!.n)).toBe(3);
  });

  it('runs again at its next slot with what was queued since, and records a slot with too little as skipped', async () => {
    const t = await seedTenant(env.db.db);
    const id = await scheduleFor(t, { minItems: '2' });
    await bulkSubmit(env.db.db, env.config, t, 1);
    await dueNow(id);
    await tick();
    expect(await batchesOf(t)).toEqual([]);
    expect(await runRows(id)).toMatchObject([{ outcome: 'skipped', message: '1 due item; this schedule waits for at least 2.' }]);
    await bulkSubmit(env.db.db, env.config, t, 1);
    await env.db.db.execute(sql`update batch_schedules set next_run_at = date_trunc('minute', now()) - interval '2 minutes' where id = ${id}`);
    await tick();
    expect(await batchesOf(t)).toHaveLength(1);
    expect((await runRows(id)).map((r) => r.outcome)).toEqual(['skipped', 'sent']);
  });

  it('leaves the batches waiting for an administrator when the schedule asks for confirmation', async () => {
    const t = await seedTenant(env.db.db);
    await bulkSubmit(env.db.db, env.config, t, 2);
    const id = await scheduleFor(t, { sending: 'confirm' });
    await dueNow(id);
    expect(await tick()).toEqual([]);
    const [batchId] = await batchesOf(t);
    expect((await findBatchById(env.db.db, batchId!))!).toMatchObject({ status: 'created', submitRequestedAt: null });
    expect(await runRows(id)).toMatchObject([{ outcome: 'created', message: '1 batch of 2 items made, waiting for an administrator to confirm.' }]);
  });

  it('takes at most its maximum, highest priority first, and only its filter', async () => {
    const t = await seedTenant(env.db.db);
    const items = await bulkSubmit(env.db.db, env.config, t, 4);
    await env.db.db.execute(sql`update queue_items set priority = 'high', priority_rank = 0 where id = ${items[3]!}`);
    const id = await scheduleFor(t, { maxItems: '2', priority: 'high' });
    await dueNow(id);
    await tick();
    const [batchId] = await batchesOf(t);
    const inBatch = await env.db.db.execute<{ id: number }>(sql`select id from queue_items where batch_id = ${batchId!}`);
    expect(inBatch.rows.map((r) => Number(r.id))).toEqual([items[3]]);
    expect(await queued(t)).toBe(3);
  });

  it('does not run while paused, and runs from the next slot after resuming', async () => {
    const t = await seedTenant(env.db.db);
    await bulkSubmit(env.db.db, env.config, t, 1);
    const id = await scheduleFor(t);
    await env.db.db.transaction((tx) => pauseSchedule(tx, t.admin, id, true, new Date()));
    await expect(env.db.db.transaction((tx) => pauseSchedule(tx, t.admin, id, true, new Date()))).rejects.toMatchObject({ status: 409, message: 'The schedule "Nightly" is already paused.' });
    await dueNow(id);
    await tick();
    expect(await batchesOf(t)).toEqual([]);
    await env.db.db.transaction((tx) => pauseSchedule(tx, t.admin, id, false, new Date()));
    await expect(env.db.db.transaction((tx) => pauseSchedule(tx, t.admin, id, false, new Date()))).rejects.toMatchObject({ status: 409, message: 'The schedule "Nightly" is not paused.' });
    expect(new Date((await scheduleRow(id)).next_run_at).getTime()).toBeGreaterThan(Date.now());
    await dueNow(id);
    await tick();
    expect(await batchesOf(t)).toHaveLength(1);
  });

  it('refuses another platform\'s schedule, course or task', async () => {
    const t = await seedTenant(env.db.db);
    const other = await seedTenant(env.db.db);
    const id = await scheduleFor(t);
    await expect(env.db.db.transaction((tx) => pauseSchedule(tx, other.admin, id, true, new Date()))).rejects.toMatchObject({ status: 404 });
    await expect(env.db.db.transaction((tx) => changeSchedule(tx, other.admin, id, input(), new Date()))).rejects.toMatchObject({ status: 404 });
    await expect(env.db.db.transaction((tx) => createSchedule(tx, t.admin, input({ course: String(other.courseId) }), new Date()))).rejects.toMatchObject({ status: 422, fields: { course: 'Choose a course of this platform.' } });
    await expect(env.db.db.transaction((tx) => createSchedule(tx, t.admin, input({ task: String(other.taskId) }), new Date()))).rejects.toMatchObject({ status: 422, fields: { task: 'Choose a task of this platform.' } });
    await expect(env.db.db.transaction((tx) => createSchedule(tx, t.admin, input({ course: String(t.courseId), task: String(other.taskId) }), new Date()))).rejects.toMatchObject({
      status: 422,
      fields: { task: 'Choose a task of the chosen course.' },
    });
  });
});

describe('a doubled or crashed run', () => {
  it('makes one batch when two workers run the same slot at once', async () => {
    const t = await seedTenant(env.db.db);
    await bulkSubmit(env.db.db, env.config, t, 3);
    const id = await scheduleFor(t);
    await dueNow(id);
    await Promise.all([tick(), tick(), tick()]);
    expect(await batchesOf(t)).toHaveLength(1);
    expect(await runRows(id)).toHaveLength(1);
  });

  it('makes nothing when a slot that already ran comes round again (the run row is unique per slot)', async () => {
    const t = await seedTenant(env.db.db);
    await bulkSubmit(env.db.db, env.config, t, 2);
    const id = await scheduleFor(t);
    await dueNow(id);
    await tick();
    await bulkSubmit(env.db.db, env.config, t, 2);
    // A replay: the schedule set back to the slot it already ran (a restored backup, a clock step).
    await dueNow(id);
    const run = await env.db.db.transaction((tx) => runNextDueSchedule(tx, env.config.batches, new Date()));
    expect(run).toMatchObject({ scheduleId: id, outcome: 'duplicate', batchIds: [] });
    expect(await batchesOf(t)).toHaveLength(1);
    expect(await queued(t)).toBe(2);
    expect(await runRows(id)).toHaveLength(1);
  });

  it('leaves nothing behind when the run crashes before its commit, and runs the slot on the next tick', async () => {
    const t = await seedTenant(env.db.db);
    await bulkSubmit(env.db.db, env.config, t, 2);
    const id = await scheduleFor(t);
    await dueNow(id);
    const crash = new Error('worker died');
    await expect(
      env.db.db.transaction(async (tx) => {
        expect(await runNextDueSchedule(tx, env.config.batches, new Date())).toMatchObject({ outcome: 'sent' });
        throw crash;
      }),
    ).rejects.toBe(crash);
    expect(await batchesOf(t)).toEqual([]);
    expect(await runRows(id)).toEqual([]);
    expect(await queued(t)).toBe(2);
    await tick();
    expect(await batchesOf(t)).toHaveLength(1);
  });
});

describe('a run during a freeze', () => {
  it('is recorded as refused with the reason, creates nothing, and runs again at the next slot once unfrozen', async () => {
    const t = await seedTenant(env.db.db);
    await bulkSubmit(env.db.db, env.config, t, 2);
    await env.db.db.execute(sql`insert into budgets (platform_id, course_id, month, limit_micros, frozen) values (${t.platformId}, null, date_trunc('month', now())::date, 100000000, true)`);
    const id = await scheduleFor(t);
    await dueNow(id);
    expect(await tick()).toEqual([]);
    expect(await batchesOf(t)).toEqual([]);
    expect(await queued(t)).toBe(2);
    const [run] = await runRows(id);
    expect(run).toMatchObject({ outcome: 'refused', message: 'The budget of the platform for this month is frozen: nothing can be sent until an administrator unfreezes it.' });
    const ledger = await env.db.db.execute<{ n: number }>(sql`select count(*)::int as n from cost_ledger where platform_id = ${t.platformId}`);
    expect(Number(ledger.rows[0]!.n)).toBe(0);
    const audit = await env.db.db.execute<{ action: string }>(sql`select action from audit_log where platform_id = ${t.platformId} and action like 'schedule.run%'`);
    expect(audit.rows).toEqual([{ action: 'schedule.run.refused' }]);
    await env.db.db.execute(sql`update budgets set frozen = false where platform_id = ${t.platformId}`);
    await env.db.db.execute(sql`update batch_schedules set next_run_at = date_trunc('minute', now()) where id = ${id}`);
    await tick();
    expect(await batchesOf(t)).toHaveLength(1);
  });

  it('is refused when the budget is spent, with what it has left', async () => {
    const t = await seedTenant(env.db.db);
    await bulkSubmit(env.db.db, env.config, t, 2);
    await env.db.db.execute(sql`insert into budgets (platform_id, course_id, month, limit_micros) values (${t.platformId}, null, date_trunc('month', now())::date, 1)`);
    const id = await scheduleFor(t);
    await dueNow(id);
    await tick();
    expect(await batchesOf(t)).toEqual([]);
    expect((await runRows(id))[0]).toMatchObject({ outcome: 'refused', message: expect.stringMatching(/^Nothing in this selection fits the monthly budget of the platform: \$0\.0000 is left/) });
  });

  it('keeps the work of a course that refuses batches queued and sends the rest', async () => {
    const t = await seedTenant(env.db.db);
    await bulkSubmit(env.db.db, env.config, t, 2);
    const id = await scheduleFor(t);
    await env.db.db.execute(sql`update course_privacy set llm_allowed = false where course_id = ${t.courseId}`);
    await dueNow(id);
    await tick();
    expect(await batchesOf(t)).toEqual([]);
    expect((await runRows(id))[0]).toMatchObject({ outcome: 'skipped', message: '0 due items; this schedule waits for at least 1. 2 items stayed queued (their course keeps work out of batches, or their model has fewer than 1).' });
  });
});

describe('automatic mode thresholds', () => {
  const auto = (t: Tenant, items: string, wait: string) => scheduleFor(t, { trigger: 'threshold', thresholdItems: items, thresholdWaitMinutes: wait });

  it('waits below N items (no run recorded), sends at N', async () => {
    const t = await seedTenant(env.db.db);
    const id = await auto(t, '3', '240');
    await bulkSubmit(env.db.db, env.config, t, 2);
    await dueNow(id);
    await tick();
    expect(await batchesOf(t)).toEqual([]);
    expect(await runRows(id)).toEqual([]);
    // The next look is a minute later.
    expect(new Date((await scheduleRow(id)).next_run_at).getTime() - Date.now()).toBeLessThanOrEqual(60_000);
    await bulkSubmit(env.db.db, env.config, t, 1);
    await dueNow(id);
    await tick();
    expect(await batchesOf(t)).toHaveLength(1);
    expect(await runRows(id)).toMatchObject([{ outcome: 'sent' }]);
  });

  it('sends fewer than N once the oldest has waited T', async () => {
    const t = await seedTenant(env.db.db);
    const id = await auto(t, '100', '30');
    const items = await bulkSubmit(env.db.db, env.config, t, 2);
    await env.db.db.execute(sql`update queue_items set created_at = now() - interval '29 minutes' where id = any(${sql.param(items)}::bigint[])`);
    await dueNow(id);
    await tick();
    expect(await batchesOf(t)).toEqual([]);
    await env.db.db.execute(sql`update queue_items set created_at = now() - interval '31 minutes' where id = ${items[0]!}`);
    await dueNow(id);
    await tick();
    expect(await batchesOf(t)).toHaveLength(1);
    expect(await queued(t)).toBe(0);
  });

  it('backs off for 15 minutes after a refused run instead of refusing every minute (and after a run that found only held-back work)', async () => {
    const t = await seedTenant(env.db.db);
    const id = await auto(t, '1', '60');
    await bulkSubmit(env.db.db, env.config, t, 1);
    await env.db.db.execute(sql`insert into budgets (platform_id, course_id, month, limit_micros, frozen) values (${t.platformId}, null, date_trunc('month', now())::date, 100000000, true)`);
    await dueNow(id);
    await tick();
    expect(await runRows(id)).toMatchObject([{ outcome: 'refused' }]);
    expect(new Date((await scheduleRow(id)).next_run_at).getTime() - Date.now()).toBeGreaterThan(14 * 60_000);
    await env.db.db.execute(sql`update budgets set frozen = false where platform_id = ${t.platformId}`);
    await env.db.db.execute(sql`update course_privacy set llm_allowed = false where course_id = ${t.courseId}`);
    await env.db.db.execute(sql`update batch_schedules set next_run_at = date_trunc('minute', now()) where id = ${id}`);
    await tick();
    expect((await runRows(id)).map((r) => r.outcome)).toEqual(['refused', 'skipped']);
    expect(new Date((await scheduleRow(id)).next_run_at).getTime() - Date.now()).toBeGreaterThan(14 * 60_000);
  });

  it('lists the runs of a platform, newest first, never another platform\'s', async () => {
    const t = await seedTenant(env.db.db);
    const other = await seedTenant(env.db.db);
    await bulkSubmit(env.db.db, env.config, t, 1);
    const id = await auto(t, '1', '60');
    await dueNow(id);
    await tick();
    expect((await listRuns(env.db.db, t.platformId, null, 10)).map((r) => r.scheduleId)).toEqual([id]);
    expect(await listRuns(env.db.db, other.platformId, null, 10)).toEqual([]);
  });
});

describe('schedule times and input', () => {
  const at = (s: string) => new Date(s);
  const timing = { trigger: 'interval' as const, intervalMinutes: 60, cron: null, windowStartMinute: null, windowEndMinute: null };

  it('counts an interval from the last slot, skipping slots missed while the worker was down', () => {
    expect(nextRunAt(timing, at('2026-03-02T10:00:00Z'), at('2026-03-02T10:00:30Z')).toISOString()).toBe('2026-03-02T11:00:00.000Z');
    expect(nextRunAt(timing, at('2026-03-02T10:00:00Z'), at('2026-03-02T13:20:00Z')).toISOString()).toBe('2026-03-02T14:00:00.000Z');
  });

  it('follows a cron expression in UTC, and moves a slot outside the window to the window\'s start (also across midnight)', () => {
    const cron = { ...timing, trigger: 'cron' as const, cron: '30 2 * * 1-5' };
    expect(nextRunAt(cron, at('2026-03-06T03:00:00Z'), at('2026-03-06T03:00:00Z')).toISOString()).toBe('2026-03-09T02:30:00.000Z');
    const windowed = { ...timing, windowStartMinute: 22 * 60, windowEndMinute: 6 * 60 };
    expect(nextRunAt(windowed, at('2026-03-02T09:00:00Z'), at('2026-03-02T09:00:00Z')).toISOString()).toBe('2026-03-02T22:00:00.000Z');
    expect(nextRunAt(windowed, at('2026-03-02T23:00:00Z'), at('2026-03-02T23:00:00Z')).toISOString()).toBe('2026-03-03T00:00:00.000Z');
  });

  it('names what is wrong with a form, field by field', () => {
    const problems = (raw: Record<string, string>) => {
      const r = scheduleFormSchema.safeParse({ name: 'x', trigger: 'interval', intervalMinutes: '5', minItems: '1', maxItems: '10', sending: 'send', ...raw });
      return r.success ? {} : Object.fromEntries(r.error.issues.map((i) => [String(i.path[0]), i.message]));
    };
    expect(problems({})).toEqual({});
    expect(problems({ name: ' ' })).toEqual({ name: 'Give the schedule a name.' });
    expect(problems({ intervalMinutes: '0' })).toEqual({ intervalMinutes: 'Enter an interval in minutes of at least 1.' });
    expect(problems({ trigger: 'cron', cron: '' })).toEqual({ cron: 'Enter a cron expression (five fields: minute hour day month weekday, UTC).' });
    expect(problems({ trigger: 'cron', cron: '61 * * * *' })).toEqual({ cron: expect.stringMatching(/^This cron expression is not valid: /) });
    expect(problems({ trigger: 'threshold', thresholdItems: '', thresholdWaitMinutes: '10' })).toEqual({ thresholdItems: 'Enter a number of items.' });
    expect(problems({ windowStart: '22:00' })).toEqual({ windowEnd: 'Give both ends of the time window, or neither.' });
    expect(problems({ windowStart: '25:00', windowEnd: '01:00' })).toEqual({ windowStart: 'Enter a time as HH:MM (24-hour, UTC).' });
    expect(problems({ windowStart: '01:00', windowEnd: '01:00' })).toEqual({ windowEnd: 'The window must not start and end at the same time (leave both empty for any time).' });
    expect(problems({ minItems: '10', maxItems: '5' })).toEqual({ maxItems: 'The maximum must not be below the minimum.' });
    expect(problems({ sending: 'maybe' })).toEqual({ sending: 'Choose whether runs wait for a confirmation or send themselves.' });
    expect(cronProblem('* * * *')).toBe('A cron expression has five fields (minute hour day month weekday), e.g. "0 2 * * *" for 02:00 UTC daily; this one has 4.');
  });
});

describe('the students\' estimate', () => {
  const hour = 3_600_000;

  it('follows a schedule that sends itself: its next run, its interval and its maximum per run', async () => {
    const t = await seedTenant(env.db.db);
    const now = new Date();
    const before = await observedThroughput(env.db.db, t.platformId, 10, now);
    expect(before.nextRoundAt ?? null).toBeNull();
    const id = await scheduleFor(t, { intervalMinutes: '120', maxItems: '50' });
    const next = new Date((await scheduleRow(id)).next_run_at);
    const th = await observedThroughput(env.db.db, t.platformId, 10, now);
    expect(th).toMatchObject({ nextRoundAt: next, cadenceMs: 2 * hour, batchSize: 50 });
    // Position 51 waits for the second run, one interval later; the turnaround (no history: the default) after it.
    expect(etaForQueued(51, th, now).getTime()).toBe(next.getTime() + 2 * hour + th.turnaroundMs);
  });

  it('ignores a schedule that waits for confirmation, is paused or covers only part of the queue', async () => {
    const t = await seedTenant(env.db.db);
    await scheduleFor(t, { sending: 'confirm' });
    await scheduleFor(t, { course: String(t.courseId) });
    const paused = await scheduleFor(t);
    await env.db.db.transaction((tx) => pauseSchedule(tx, t.admin, paused, true, new Date()));
    expect((await observedThroughput(env.db.db, t.platformId, 10)).nextRoundAt ?? null).toBeNull();
  });

  it('in automatic mode, expects the round when the oldest item will have waited T (or now, at N items)', async () => {
    const t = await seedTenant(env.db.db);
    await scheduleFor(t, { trigger: 'threshold', thresholdItems: '3', thresholdWaitMinutes: '240' });
    const items = await bulkSubmit(env.db.db, env.config, t, 2);
    await env.db.db.execute(sql`update queue_items set created_at = now() - interval '1 hour' where id = ${items[0]!}`);
    const oldest = (await env.db.db.execute<{ c: string }>(sql`select min(created_at) as c from queue_items where id = any(${sql.param(items)}::bigint[])`)).rows[0]!.c;
    const now = new Date();
    const th = await observedThroughput(env.db.db, t.platformId, 10, now);
    expect(th.nextRoundAt!.getTime()).toBe(new Date(oldest).getTime() + 4 * hour);
    expect(th.cadenceMs).toBe(4 * hour);
    await bulkSubmit(env.db.db, env.config, t, 1);
    const full = await observedThroughput(env.db.db, t.platformId, 10, now);
    expect(full.nextRoundAt!.getTime() - Date.now()).toBeLessThanOrEqual(60_000);
  });
});
