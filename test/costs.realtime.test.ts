import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { sql } from 'drizzle-orm';
import { startStack, type Stack } from './helpers/stack.js';
import type { ToolSession } from './helpers/lti-browser.js';
import { activatePrompt, allowLlm, homeIds, type Home } from './helpers/queue-fixtures.js';
import { textOf } from './helpers/html.js';
import { promptForm } from './helpers/prompts.js';
import { reserveForBatch } from '../src/models/budgets/budgets.service.js';
import { spendReport } from '../src/models/budgets/spend.service.js';
import { runChargedSampleTests, sampleTestBudget } from '../src/models/prompts/sample-test.service.js';
import { findPromptForTask } from '../src/models/prompts/prompts.repository.js';
import { activeVersionOf } from '../src/routes/prompts.page.js';
import { createProvider } from '../src/providers/index.js';
import { HttpError } from '../src/errors.js';
import { insertRealtimeCharge, releaseStaleRealtime } from '../src/models/budgets/ledger.repository.js';
import { formatUsd } from '../src/routes/prompts.present.js';

type ApiError = { error: { code: string; message: string } };
type TestAnswer = { results: Array<{ status: string; costMicros: number | null; usage: { inputTokens: number; cachedInputTokens: number; outputTokens: number } | null }>; usage: { costMicros: number } };
type LedgerRow = { kind: string; mode: string; amount_micros: number; settled_micros: number; task_id: number | null; provider: string | null; model: string | null; input_tokens: number | null; output_tokens: number | null; idempotency_key: string };

const SAMPLE = 'The Boston Tea Party was a protest against the Tea Act, which let the East India Company sell tea cheaply.';

/**
 * Issue 16, item 1 (real-time spend): a sample test pays standard prices, so it reserves its worst case against the
 * budgets before anything is sent, is charged what it cost (settling the reservation) and shows in every report as
 * real-time spend beside batch spend; a refused or failed call charges nothing.
 */
describe('real-time calls in the ledger', () => {
  let stack: Stack;
  let admin: ToolSession;
  let instructor: ToolSession;
  let home: Home;
  let month: string;
  const db = () => stack.db.db;
  const ledger = async () =>
    (await db().execute<LedgerRow>(sql`
      select kind, mode, amount_micros::int8 as amount_micros, settled_micros::int8 as settled_micros, task_id, provider, model, input_tokens, output_tokens, idempotency_key
      from cost_ledger where course_id = ${home.courseId} order by id`)).rows.map((r) => ({ ...r, amount_micros: Number(r.amount_micros), settled_micros: Number(r.settled_micros), task_id: r.task_id == null ? null : Number(r.task_id) }));
  const committed = async () =>
    Number((await db().execute<{ c: number }>(sql`
      select coalesce(sum(case when kind = 'release' then -amount_micros else amount_micros - settled_micros end), 0)::int8 as c from cost_ledger where course_id = ${home.courseId}`)).rows[0]!.c);
  const setBudget = async (limit: string) => expect((await admin.post('/admin/costs/budgets', { scope: `course-${home.courseId}`, month, limit }, { htmx: true })).status).toBe(200);
  const apiTest = (samples: string[]) => instructor.request(`/api/tasks/${home.taskId}/llm-prompt/test/`, { method: 'POST', json: { samples } });

  beforeAll(async () => {
    stack = await startStack({ emulator: true });
    instructor = await stack.browser().launch(stack.devlmsUrl, 'instructor', { task: '1' });
    admin = await stack.browser().launch(stack.devlmsUrl, 'admin');
    home = await homeIds(stack);
    await allowLlm(db(), home.courseId, home.instructorId);
    await activatePrompt(db(), home, home.taskId);
    month = (await db().execute<{ m: string }>(sql`select to_char(now(), 'YYYY-MM') as m`)).rows[0]!.m;
  }, 60_000);
  afterAll(async () => {
    await stack?.close();
  });

  it('charges a sample test at real-time prices, settling its worst-case reservation, and reports it beside batch spend', async () => {
    const answer = await apiTest([SAMPLE]);
    expect(answer.status).toBe(200);
    const { results, usage } = answer.json<TestAnswer>();
    expect(['graded', 'flagged']).toContain(results[0]!.status);
    expect(usage.costMicros).toBeGreaterThan(0);

    const rows = await ledger();
    expect(rows).toHaveLength(2);
    const [reservation, charge] = rows as [LedgerRow, LedgerRow];
    expect(reservation).toMatchObject({ kind: 'reservation', mode: 'realtime', task_id: home.taskId });
    // The reservation is the worst case: every sample at its maximum output.
    expect(reservation.amount_micros).toBeGreaterThan(usage.costMicros);
    expect(charge).toMatchObject({
      kind: 'charge',
      mode: 'realtime',
      amount_micros: usage.costMicros,
      settled_micros: reservation.amount_micros,
      task_id: home.taskId,
      provider: 'openai',
      model: 'gpt-4o-mini',
      input_tokens: results[0]!.usage!.inputTokens,
      output_tokens: results[0]!.usage!.outputTokens,
    });
    expect(charge.idempotency_key.slice('charge:'.length)).toBe(reservation.idempotency_key.slice('reserve:'.length));
    expect(await committed()).toBe(usage.costMicros);

    const report = await spendReport(db(), home.platformId);
    expect(report.selected).toMatchObject({ committedMicros: usage.costMicros, chargedMicros: usage.costMicros, realtimeMicros: usage.costMicros, inFlightMicros: 0 });
    expect(report.selected.savings).toBeNull(); // nothing saved on a call that paid the standard price
    expect(report.tasks).toEqual([expect.objectContaining({ taskId: home.taskId, chargedMicros: usage.costMicros, realtimeMicros: usage.costMicros, results: 0 })]);

    const page = await admin.get('/admin/costs');
    expect(page.status).toBe(200);
    const cost = formatUsd(usage.costMicros);
    expect(textOf(page.html)).toContain(`Charged for real-time calls (sample tests, gradings now) ${cost}`);
    expect(textOf(page.html)).toContain('Charged for batch results $0');
  });

  it('releases the reservation of a test whose call failed, charging nothing', async () => {
    const before = await committed();
    stack.emulator!.setFaults({ chatFailures: { count: 2, status: 500 } }); // both attempts of the one call
    try {
      const answer = await apiTest([SAMPLE]);
      expect(answer.status).toBe(200);
      expect(answer.json<TestAnswer>().results[0]!.status).toBe('error');
    } finally {
      stack.emulator!.reset();
    }
    const last = (await ledger()).slice(-2);
    expect(last.map((r) => [r.kind, r.mode])).toEqual([['reservation', 'realtime'], ['release', 'realtime']]);
    expect(last[1]!.amount_micros).toBe(last[0]!.amount_micros);
    expect(await committed()).toBe(before);
  });

  it('refuses a test whose worst case the budget cannot cover, on the page and in the API, sending nothing', async () => {
    const rowsBefore = (await ledger()).length;
    await setBudget('1.00');
    // Just above what is committed (in micro-dollars, finer than the form's cents): a test's worst case does not fit.
    await db().execute(sql`update budgets set limit_micros = ${(await committed()) + 100} where course_id = ${home.courseId}`);
    const api = await apiTest([SAMPLE]);
    expect(api.status).toBe(409);
    expect(api.json<ApiError>().error.message).toMatch(/^This sample test could cost up to \$[\d.]+ at real-time prices, more than the monthly budget of course ".*" has left/);
    const page = await instructor.post(`/instructor/tasks/${home.taskId}/prompt/test`, promptForm({}, { 'samples[0]': SAMPLE }), { htmx: true });
    expect(page.status).toBe(409);
    expect(textOf(page.html)).toContain('Nothing was tested');
    expect(textOf(page.html)).toContain('could cost up to');
    expect(await ledger()).toHaveLength(rowsBefore);
  });

  it("releases a reservation a stopped process left unsettled after 30 minutes, once, and a late charge then settles nothing", async () => {
    const reserve = (key: string, minutesAgo: number) =>
      db().execute(sql`
        insert into cost_ledger (platform_id, course_id, month, kind, mode, amount_micros, task_id, provider, model, idempotency_key, created_at)
        values (${home.platformId}, ${home.courseId}, date_trunc('month', now())::date, 'reservation', 'realtime', 5000, ${home.taskId}, 'openai', 'gpt-4o-mini',
                ${`reserve:${key}`}, now() - make_interval(mins => ${minutesAgo}))`);
    const net = async (key: string) =>
      Number((await db().execute<{ n: number }>(sql`
        select coalesce(sum(case when kind = 'release' then -amount_micros else amount_micros - settled_micros end), 0)::int8 as n
        from cost_ledger where idempotency_key in (${`reserve:${key}`}, ${`charge:${key}`}, ${`release:${key}`})`)).rows[0]!.n);
    await reserve('rt-stale', 31);
    await reserve('rt-running', 5);
    expect(await releaseStaleRealtime(db(), 30)).toBe(1);
    expect(await releaseStaleRealtime(db(), 30)).toBe(0);
    expect(await net('rt-stale')).toBe(0);
    expect(await net('rt-running')).toBe(5000);
    // The call answered after all: its charge counts, and settles nothing the sweep already gave back.
    await insertRealtimeCharge(db(), 'rt-stale', { amountMicros: 120, inputTokens: 500, cachedInputTokens: 0, outputTokens: 100 }, 'sample test');
    expect(await net('rt-stale')).toBe(120);
    // A call that ends normally settles its whole reservation.
    await insertRealtimeCharge(db(), 'rt-running', { amountMicros: 130, inputTokens: 500, cachedInputTokens: 0, outputTokens: 110 }, 'sample test');
    expect(await net('rt-running')).toBe(130);
  });

  it('never commits past the limit with 50 batch reservations and real-time tests at once at the budget edge', async () => {
    const version = (await activeVersionOf(db(), await findPromptForTask(db(), home.taskId)))!;
    const task = { title: 'Boston Tea Party', description: 'Explain its causes.' };
    const samples = [{ index: 1, text: SAMPLE }];
    const limits = { maxChars: 10_000, maxCostMicros: 1_000_000 };
    const worst = sampleTestBudget(version, task, samples, limits).worstCostMicros;
    const start = await committed();
    const limit = start + 20 * worst + Math.floor(worst / 2);
    await setBudget('1.00');
    await db().execute(sql`update budgets set limit_micros = ${limit} where course_id = ${home.courseId}`);
    const startId = Number((await db().execute<{ id: number }>(sql`select coalesce(max(id), 0) as id from cost_ledger`)).rows[0]!.id);

    const provider = createProvider(stack.config);
    const scope = { platformId: home.platformId, courseId: home.courseId, taskId: home.taskId };
    const attempts = Array.from({ length: 50 }, (_, i) =>
      i % 2 === 0
        ? db().transaction((tx) => reserveForBatch(tx, home.platformId, 9_000_000 + i, [{ customId: `edge-${i}`, queueItemId: 9_000_000 + i, courseId: home.courseId, amountMicros: worst }]))
        : runChargedSampleTests(db(), scope, provider, { content: version, task, samples, limits }),
    );
    const outcomes = await Promise.allSettled(attempts);
    const refused = outcomes.filter((o) => o.status === 'rejected');
    for (const r of refused) {
      expect((r as PromiseRejectedResult).reason).toBeInstanceOf(HttpError);
      expect(((r as PromiseRejectedResult).reason as HttpError).status).toBe(409);
    }
    expect(refused.length).toBeGreaterThan(0);
    expect(outcomes.length - refused.length).toBeGreaterThanOrEqual(20);

    // Replayed in the order the rows were written, what was committed never went past the limit.
    const moves = (await db().execute<{ kind: string; amount_micros: number; settled_micros: number }>(sql`
      select kind, amount_micros, settled_micros from cost_ledger where course_id = ${home.courseId} and id > ${startId} order by id`)).rows;
    let running = start;
    let peak = start;
    for (const m of moves) {
      running += m.kind === 'release' ? -Number(m.amount_micros) : Number(m.amount_micros) - Number(m.settled_micros);
      peak = Math.max(peak, running);
    }
    expect(peak).toBeLessThanOrEqual(limit);
    expect(await committed()).toBeLessThanOrEqual(limit);
  }, 60_000);
});
