import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { sql } from 'drizzle-orm';
import { startStack, type Stack } from './helpers/stack.js';
import type { ToolSession } from './helpers/lti-browser.js';
import { homeIds } from './helpers/assessments.js';
import { textOf } from './helpers/html.js';
import { projectMonthEnd } from '../src/models/budgets/cost-report.service.js';
import { formatUsd } from '../src/routes/prompts.present.js';

type Figures = { committedMicros: number; chargedMicros: number; realtimeMicros: number; inFlightMicros: number; results: number };
type Summary = { period: { from: string; to: string }; groupBy: string; groups: Array<Figures & { key: string; label: string }>; totals: Figures };
type Budget = {
  id: number;
  scope: { type: string; courseId?: number };
  month: string;
  limitMicros: number;
  committedMicros: number;
  reservedMicros: number;
  spentMicros: number;
  remainingMicros: number;
  thresholds: number[];
  thresholdsReached: number[];
  alertsSent: number[];
  frozen: boolean;
  forecast: { projectedMicros: number; runRateMicrosPerDay: number; queuedMicros: number; thresholdsAhead: number[] } | null;
};
type ApiError = { error: { code: string; message: string; fields?: Record<string, string> } };

describe('month-end forecast', () => {
  const budget = { limitMicros: 40_000, thresholds: [75, 90, 95, 100] };

  it("projects committed + the month's charge rate over the days left + what is queued, and warns of thresholds ahead", () => {
    // 8,000 charged in 8 days: 1,000 a day; 22 days left.
    const f = projectMonthEnd({ committedMicros: 10_000, chargedMicros: 8_000, queuedMicros: 2_000, elapsedDays: 8, monthDays: 30 }, budget);
    expect(f).toEqual({ projectedMicros: 34_000, runRateMicrosPerDay: 1_000, queuedMicros: 2_000, thresholdsAhead: [75] });
  });

  it('counts at least one day gone (the 1st does not extrapolate hours into thousands) and nothing after the month', () => {
    expect(projectMonthEnd({ committedMicros: 500, chargedMicros: 500, queuedMicros: 0, elapsedDays: 0.25, monthDays: 31 }, budget).runRateMicrosPerDay).toBe(500);
    expect(projectMonthEnd({ committedMicros: 30_000, chargedMicros: 30_000, queuedMicros: 1_000, elapsedDays: 30, monthDays: 30 }, budget)).toEqual({
      projectedMicros: 31_000,
      runRateMicrosPerDay: 1_000,
      queuedMicros: 1_000,
      thresholdsAhead: [],
    });
  });

  it('names only the thresholds spend has not reached yet, and none for a budget of zero', () => {
    expect(projectMonthEnd({ committedMicros: 31_000, chargedMicros: 10_000, queuedMicros: 0, elapsedDays: 10, monthDays: 30 }, budget).thresholdsAhead).toEqual([90, 95, 100]);
    expect(projectMonthEnd({ committedMicros: 10, chargedMicros: 10, queuedMicros: 0, elapsedDays: 1, monthDays: 30 }, { limitMicros: 0, thresholds: [75, 100] }).thresholdsAhead).toEqual([]);
  });
});

/**
 * The cost API (issue 16, item 10) against a ledger seeded by hand: every figure computed below by hand, equal to
 * the ledger's own sum and to the Costs page for the same month; budgets set and frozen through it.
 */
describe('the cost API', () => {
  let stack: Stack;
  let admin: ToolSession;
  let instructor: ToolSession;
  let courseId: number;
  let taskId: number;
  let platformId: number;
  let month: string;
  const db = () => stack.db.db;
  const getJson = async <T>(path: string, status = 200): Promise<T> => {
    const res = await admin.request(path);
    expect({ path, status: res.status }).toEqual({ path, status });
    return res.json<T>();
  };

  beforeAll(async () => {
    stack = await startStack();
    admin = await stack.browser().launch(stack.devlmsUrl, 'admin');
    instructor = await stack.browser().launch(stack.devlmsUrl, 'instructor', { task: '1' });
    const home = await homeIds(stack);
    ({ courseId, taskId, platformId } = home);
    month = (await db().execute<{ m: string }>(sql`select to_char(now(), 'YYYY-MM') as m`)).rows[0]!.m;
    const batchId = Number((await db().execute<{ id: number }>(sql`insert into batches (platform_id, provider, model) values (${platformId}, 'openai', 'gpt-4o') returning id`)).rows[0]!.id);
    const row = (kind: string, mode: string, amount: number, settled: number, key: string, extra: { batch?: number; task?: number; model?: string; ago?: number }) => sql`
      insert into cost_ledger (platform_id, course_id, month, kind, mode, amount_micros, settled_micros, batch_id, task_id, provider, model, idempotency_key)
      values (${platformId}, ${courseId}, (date_trunc('month', now()) - make_interval(months => ${extra.ago ?? 0}))::date, ${kind}, ${mode}, ${amount}, ${settled},
              ${extra.batch ?? null}, ${extra.task ?? null}, ${extra.model ? 'openai' : null}, ${extra.model ?? null}, ${key})`;
    for (const q of [
      row('reservation', 'batch', 1_000, 0, 'reserve:a', { batch: batchId }),
      row('charge', 'batch', 600, 1_000, 'charge:a', { batch: batchId }),
      row('reservation', 'batch', 5_000, 0, 'reserve:b', { batch: batchId }),
      row('reservation', 'realtime', 2_000, 0, 'reserve:rt', { task: taskId, model: 'gpt-4o-mini' }),
      row('charge', 'realtime', 700, 2_000, 'charge:rt', { task: taskId, model: 'gpt-4o-mini' }),
      row('reservation', 'batch', 3_000, 0, 'reserve:old', { batch: batchId, ago: 1 }),
      row('release', 'batch', 3_000, 0, 'release:old', { batch: batchId, ago: 1 }),
    ]) {
      await db().execute(q);
    }
  }, 60_000);
  afterAll(async () => {
    await stack?.close();
  });

  // This month: committed (1,000 − 1,000 + 600) + 5,000 + (2,000 − 2,000 + 700) = 6,300; charged 600 + 700;
  // real-time 700; in flight 1,000 + 5,000 + 2,000 − 1,000 − 2,000 = 5,000.
  const THIS_MONTH = { committedMicros: 6_300, chargedMicros: 1_300, realtimeMicros: 700, inFlightMicros: 5_000, results: 0 };

  it('sums the month by model, provider, task and course exactly as computed by hand', async () => {
    const byModel = await getJson<Summary>('/api/llm-costs/summary/?groupBy=model');
    expect(byModel.period).toEqual({ from: month, to: month });
    expect(byModel.groups).toEqual([
      expect.objectContaining({ key: 'gpt-4o', committedMicros: 5_600, chargedMicros: 600, realtimeMicros: 0, inFlightMicros: 5_000 }),
      expect.objectContaining({ key: 'gpt-4o-mini', committedMicros: 700, chargedMicros: 700, realtimeMicros: 700, inFlightMicros: 0 }),
    ]);
    expect(byModel.totals).toMatchObject(THIS_MONTH);
    expect((await getJson<Summary>('/api/llm-costs/summary/?groupBy=provider')).groups).toEqual([expect.objectContaining({ key: 'openai', ...THIS_MONTH })]);
    expect((await getJson<Summary>('/api/llm-costs/summary/?groupBy=task')).groups).toEqual([
      expect.objectContaining({ key: String(taskId), committedMicros: 700, realtimeMicros: 700 }),
      expect.objectContaining({ key: 'none', label: 'No task recorded', committedMicros: 5_600 }),
    ]);
    expect((await getJson<Summary>(`/api/llm-costs/summary/?groupBy=course&course=${courseId}`)).groups).toEqual([expect.objectContaining({ key: String(courseId), ...THIS_MONTH })]);
  });

  it('groups a period by month, week and day, the totals equal to the ledger and to the Costs page', async () => {
    const prev = (await db().execute<{ m: string }>(sql`select to_char(now() - interval '1 month', 'YYYY-MM') as m`)).rows[0]!.m;
    const byMonth = await getJson<Summary>(`/api/llm-costs/summary/?from=${prev}&groupBy=month`);
    expect(byMonth.groups.map((g) => [g.key, g.committedMicros, g.inFlightMicros])).toEqual([
      [prev, 0, 0],
      [month, 6_300, 5_000],
    ]);
    for (const groupBy of ['day', 'week']) {
      const s = await getJson<Summary>(`/api/llm-costs/summary/?groupBy=${groupBy}`);
      expect(s.groups.length).toBeGreaterThanOrEqual(1);
      expect(s.totals).toMatchObject(THIS_MONTH);
    }
    const ledger = await db().execute<{ c: number }>(sql`
      select sum(case when kind = 'release' then -amount_micros else amount_micros - settled_micros end)::int8 as c
      from cost_ledger where platform_id = ${platformId} and month = date_trunc('month', now())::date`);
    expect(Number(ledger.rows[0]!.c)).toBe(THIS_MONTH.committedMicros);
    const page = textOf((await admin.get('/admin/costs')).html);
    expect(page).toContain(`Committed ${formatUsd(6_300)}`);
    expect(page).toContain(`Charged for batch results ${formatUsd(600)}`);
    expect(page).toContain(`Charged for real-time calls (sample tests, gradings now) ${formatUsd(700)}`);
    expect(page).toContain(`Reserved for batches in flight ${formatUsd(5_000)}`);
  });

  it('refuses a malformed or impossible query with the reason, and another platform’s course as not found', async () => {
    const bad = async (query: string, status: number, text: RegExp) => {
      const res = await admin.request(`/api/llm-costs/summary/?${query}`);
      expect({ query, status: res.status }).toEqual({ query, status });
      expect(res.json<ApiError>().error.message + JSON.stringify(res.json<ApiError>().error.fields ?? {})).toMatch(text);
    };
    await bad('groupBy=colour', 422, /groupBy is one of day, week, month, course, task, model, provider/);
    await bad('from=2026-13', 422, /Give from as YYYY-MM/);
    await bad(`from=${month}&to=2020-01`, 422, /to is the same month as from or later/);
    await bad('from=2020-01&to=2023-01', 422, /at most 36 months/);
    await bad('colour=red', 422, /./);
    await bad('course=999999999', 404, /course/i);
  });

  it('sets, changes and freezes a budget, answering its status with thresholds and a forecast', async () => {
    const created = await admin.request('/api/llm-costs/budgets/', { method: 'POST', json: { courseId, month, limit: 0.01, warnAt: [50] } });
    expect(created.status).toBe(201);
    const b = created.json<{ budget: Budget }>().budget;
    expect(b).toMatchObject({
      scope: { type: 'course', courseId },
      month,
      limitMicros: 10_000,
      committedMicros: 6_300,
      reservedMicros: 5_000,
      spentMicros: 1_300,
      remainingMicros: 3_700,
      thresholds: [50, 100],
      thresholdsReached: [50],
      alertsSent: [50],
      frozen: false,
    });
    expect(b.forecast!.queuedMicros).toBe(0);
    expect(b.forecast!.projectedMicros).toBeGreaterThanOrEqual(6_300);

    // The Costs page shows the same forecast in the budget's row, with the early warning when there is one.
    const page = await admin.get('/admin/costs');
    const row = textOf(page.html.slice(page.html.indexOf(`id="costs-budget-${b.id}"`), page.html.indexOf('</tr>', page.html.indexOf(`id="costs-budget-${b.id}"`))));
    expect(row).toContain(`${formatUsd(b.forecast!.projectedMicros)} (${Math.floor((b.forecast!.projectedMicros / 10_000) * 100)}%) ${formatUsd(b.forecast!.runRateMicrosPerDay)} a day so far`);
    // And as a chart of this month's budgets: the forecast as a share of the limit.
    expect(page.html).toContain(`<desc id="costs-chart-forecast-desc">`);
    expect(textOf(page.html.slice(page.html.indexOf('<desc id="costs-chart-forecast-desc">')))).toContain(`: ${Math.round((b.forecast!.projectedMicros / 10_000) * 100)}% (${formatUsd(b.forecast!.projectedMicros)} of ${formatUsd(10_000)})`);
    if (b.forecast!.thresholdsAhead.includes(100)) expect(row).toContain('At this pace the limit is reached before the month ends.');
    else expect(row).not.toContain('At this pace');

    const changed = await admin.request('/api/llm-costs/budgets/', { method: 'POST', json: { courseId, month, limit: 20, carryOver: true } });
    expect(changed.status).toBe(200);
    // No budget last month: nothing to carry over yet.
    expect(changed.json<{ budget: Budget & { carryOver: boolean; ownLimitMicros: number } }>().budget).toMatchObject({ id: b.id, limitMicros: 20_000_000, ownLimitMicros: 20_000_000, carryOver: true, thresholds: [50, 100], thresholdsReached: [] });

    const frozen = await admin.request(`/api/llm-costs/budgets/${b.id}/freeze/`, { method: 'POST', json: { frozen: true } });
    expect(frozen.status).toBe(200);
    expect(frozen.json<{ budget: Budget }>().budget.frozen).toBe(true);
    const status = await getJson<{ currentMonth: string; budgets: Budget[] }>('/api/llm-costs/budget-status/');
    expect(status.currentMonth).toBe(month);
    expect(status.budgets).toEqual([expect.objectContaining({ id: b.id, frozen: true, limitMicros: 20_000_000 })]);
    const audit = await db().execute<{ action: string }>(sql`select action from audit_log where entity_type = 'budget' and entity_id = ${String(b.id)} order by id`);
    expect(audit.rows.map((r) => r.action)).toEqual(['budget.created', 'budget.limit_changed', 'budget.frozen']);
  });

  it('refuses bad budget input with messages, changing nothing; a budget of nobody is not found; instructors are refused', async () => {
    const before = await db().execute<{ n: number }>(sql`select count(*)::int as n from budgets`);
    const post = (json: unknown) => admin.request('/api/llm-costs/budgets/', { method: 'POST', json });
    const limit = await post({ month, limit: 0.001 });
    expect(limit.status).toBe(422);
    expect(limit.json<ApiError>().error.fields?.limit).toMatch(/Enter dollars with at most two decimals/);
    expect((await post({ month, limit: '5' })).json<ApiError>().error.fields?.limit).toBe('Give the monthly limit in dollars as a number, like 250 or 99.5.');
    const foreign = await post({ courseId: 999_999_999, month, limit: 5 });
    expect(foreign.status).toBe(422);
    expect(foreign.json<ApiError>().error.fields?.scope).toBe('Choose the platform or one of its courses.');
    expect((await post({ month: '2020-01', limit: 5 })).json<ApiError>().error.fields?.month).toBe('A budget cannot be set for a month that is over.');
    expect((await post({ month, limit: 5, warnAt: [120] })).status).toBe(422);
    expect((await post({ month, limit: 5, extra: true })).status).toBe(422);
    expect((await admin.request('/api/llm-costs/budgets/999999999/freeze/', { method: 'POST', json: { frozen: true } })).status).toBe(404);
    const notBool = await admin.request('/api/llm-costs/budgets/999999999/freeze/', { method: 'POST', json: { frozen: 'yes' } });
    expect(notBool.status).toBe(422);
    expect((await instructor.request('/api/llm-costs/budget-status/')).status).toBe(403);
    expect((await instructor.request('/api/llm-costs/budgets/', { method: 'POST', json: { month, limit: 5 } })).status).toBe(403);
    expect((await db().execute<{ n: number }>(sql`select count(*)::int as n from budgets`)).rows[0]!.n).toBe(before.rows[0]!.n);
  });
});
