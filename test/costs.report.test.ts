import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { sql } from 'drizzle-orm';
import { startStack, type Stack } from './helpers/stack.js';
import type { Page, ToolSession } from './helpers/lti-browser.js';
import { launchTwoPlatforms } from './helpers/launches.js';
import { createAssessment, homeIds, SUBS } from './helpers/assessments.js';
import { textOf } from './helpers/html.js';
import { ROOT } from '../src/paths.js';
import { anthropicPrices, parseAnthropicPrices, readAnthropicPrices, ANTHROPIC_PRICES_FILE } from '../src/providers/anthropic-prices.js';
import { listModels } from '../src/providers/pricing.js';
import { compareProviders, kpiAchieved, type ChargeVolume } from '../src/models/budgets/provider-comparison.js';
import { valueOfMinutes } from '../src/models/budgets/roi.service.js';
import { csvCell, csvDollars, percentOf } from '../src/routes/cost-report.present.js';
import { formatUsd } from '../src/routes/prompts.present.js';

/**
 * The cost report (issue 16, item 8): the Anthropic price file, the provider comparison and ROI arithmetic, and
 * the page, its forms, CSV and print view against a ledger and assessments seeded by SQL. Every expected figure
 * below is computed by hand in the comments beside it.
 */

describe('the Anthropic price file (data/prices/anthropic.yml)', () => {
  it('prices the three stand-ins from genai-prices (2026-07-29), batch at exactly half of every standard price', () => {
    const { table } = readAnthropicPrices();
    const rates = (id: string) => table.byId.get(id)!.byPeriod.at(-1)!;
    expect(rates('claude-haiku-4-5').standard).toMatchObject({ inputUsdPerMTok: 1, cachedInputUsdPerMTok: 0.1, outputUsdPerMTok: 5, checked: '2026-07-29' });
    expect(rates('claude-sonnet-4-6').standard).toMatchObject({ inputUsdPerMTok: 3, cachedInputUsdPerMTok: 0.3, outputUsdPerMTok: 15 });
    expect(rates('claude-opus-4-7').standard).toMatchObject({ inputUsdPerMTok: 5, cachedInputUsdPerMTok: 0.5, outputUsdPerMTok: 25 });
    for (const entry of table.models) {
      const m = entry.byPeriod.at(-1)!;
      expect([m.model, m.batch.inputUsdPerMTok * 2, m.batch.cachedInputUsdPerMTok * 2, m.batch.outputUsdPerMTok * 2]).toEqual([m.model, m.standard.inputUsdPerMTok, m.standard.cachedInputUsdPerMTok, m.standard.outputUsdPerMTok]);
      // Cache writes: 1.25x input for 5 minutes, 2x for an hour (genai-prices), and half of that in a batch.
      expect([m.model, m.standard.cacheWriteUsdPerMTok, m.standard.cacheWrite1hUsdPerMTok]).toEqual([m.model, m.standard.inputUsdPerMTok * 1.25, m.standard.inputUsdPerMTok * 2]);
      expect([m.model, m.batch.cacheWriteUsdPerMTok! * 2, m.batch.cacheWrite1hUsdPerMTok! * 2]).toEqual([m.model, m.standard.cacheWriteUsdPerMTok, m.standard.cacheWrite1hUsdPerMTok]);
    }
  });

  it('names a stand-in for every OpenAI model of the price list, and the mapping the report documents', () => {
    const { byOpenAiModel } = anthropicPrices();
    expect(listModels(undefined, 'openai').map((m) => m.model).filter((m) => !byOpenAiModel.has(m))).toEqual([]);
    expect(byOpenAiModel.get('gpt-4o-mini')!.anthropicModel).toBe('claude-haiku-4-5');
    expect(byOpenAiModel.get('gpt-4o')!.anthropicModel).toBe('claude-sonnet-4-6');
    expect(byOpenAiModel.get('gpt-4.1')!.anthropicModel).toBe('claude-sonnet-4-6');
    expect(byOpenAiModel.get('gpt-5.5')!.anthropicModel).toBe('claude-opus-4-7');
  });

  it('is read from data/, never from ../shared, and says where its prices come from and when they were checked', () => {
    expect(ANTHROPIC_PRICES_FILE).toBe(path.join(ROOT, 'data', 'prices', 'anthropic.yml'));
    const text = readFileSync(ANTHROPIC_PRICES_FILE, 'utf8');
    expect(text).toMatch(/^# Anthropic prices/);
    expect(text).toContain('genai-prices');
    expect(text).toMatch(/copied by hand on \d{4}-\d{2}-\d{2}/);
  });

  const base = readFileSync(ANTHROPIC_PRICES_FILE, 'utf8');
  it.each([
    ['a stand-in naming a model without a price', base.replace('anthropic: claude-opus-4-7', 'anthropic: claude-opus-9'), /stand_ins\.2\.anthropic: "claude-opus-9" has no price/],
    ['an OpenAI model under two stand-ins', base.replace('openai: [gpt-5.5]', 'openai: [gpt-5.5, gpt-4o]'), /stand_ins\.2\.openai: "gpt-4o" already has a stand-in \(claude-sonnet-4-6\)/],
    ['no stand-ins', base.replace(/stand_ins:[\s\S]*?\nmodels:/, 'models:'), /stand_ins/],
    ['a stand-in with a field the loader does not know', base.replace('  - tier: Largest', '  - tier: Largest\n    weight: 2'), /stand_ins\.2/],
    ['a price that is not a number', base.replace('output: 25.00, cache_write: 6.25', 'output: lots, cache_write: 6.25'), /models\.claude-opus-4-7\.standard\.output/],
    ['a price with more than six decimals', base.replace('input: 1.00,', 'input: 1.0000001,'), /at most 6 decimal places/],
  ])('refuses %s, naming the field', (_name, text, message) => {
    expect(() => parseAnthropicPrices(text, 'test file')).toThrow(message);
  });
});

describe('provider comparison and ROI arithmetic', () => {
  const v = (model: string | null, input: number | null, cached: number, output: number, charged: number, requests = 1): ChargeVolume => ({ model, day: '2026-12-01', inputTokens: input, cachedInputTokens: cached, outputTokens: output, requests, chargedMicros: charged });

  it('prices each request at the four providers, rounded once per request, and compares the same requests only', () => {
    // gpt-4o-mini, 10,000 input of which 4,000 cached, 2,000 output, twice:
    //   OpenAI batch (no cached batch price: input's) 6,000 × 0.075 + 4,000 × 0.075 + 2,000 × 0.30 = 1,350
    //   OpenAI standard 6,000 × 0.15 + 4,000 × 0.075 + 2,000 × 0.60 = 2,400
    //   Claude Haiku 4.5 batch 6,000 × 0.5 + 4,000 × 0.05 + 2,000 × 2.5 = 8,200; standard 6,000 + 400 + 10,000 = 16,400
    // The alias gpt-4o-mini-2024-07-18 is the same model; one token of output, 0.3 µ$ at batch, rounds to 0 per request.
    // An unknown model and a charge without tokens are left out with their charges.
    const c = compareProviders([v('gpt-4o-mini', 10_000, 4_000, 2_000, 2_700, 2), v('gpt-4o-mini-2024-07-18', 0, 0, 1, 1, 3), v('text-davinci-003', 100, 0, 100, 40), v(null, null, 0, 0, 500)]);
    expect(c).toEqual({
      openaiBatchMicros: 2_700,
      // 1 output token: 0.6 µ$ → 1 µ$ each at standard; Haiku 5 µ$ standard, 2.5 → 3 µ$ batch (half up).
      openaiRealtimeMicros: 4_800 + 3,
      anthropicBatchMicros: 16_400 + 9,
      anthropicRealtimeMicros: 32_800 + 15,
      comparedRequests: 5,
      chargedMicros: 2_701,
      savedMicros: 4_803 - 2_701,
      leftOutRequests: 2,
      leftOutMicros: 540,
      kpiAchieved: false,
    });
  });

  it('counts the KPI as achieved from exactly 60 % saved against OpenAI real-time, and not at all without a comparison', () => {
    expect(kpiAchieved(1_440, 2_400)).toBe(true); // 60.0 %
    expect(kpiAchieved(1_439, 2_400)).toBe(false); // 59.96 %: shown as 59.9 %, never rounded up to the target
    expect(percentOf(1_439, 2_400)).toBe(59.9);
    expect(kpiAchieved(0, 0)).toBeNull();
    expect(compareProviders([]).kpiAchieved).toBeNull();
  });

  it('values minutes at the hourly rate, half up, without losing precision on large months', () => {
    expect(valueOfMinutes(34, 45_000_000)).toBe(25_500_000);
    expect(valueOfMinutes(1, 1_000_001)).toBe(16_667); // 16,666.68 µ$
    // 1,000,001 min × $9,999.999999 an hour: the product (about 10^16 µ$·min) is past 2^53; ÷ 60 it is not.
    expect(valueOfMinutes(1_000_001, 9_999_999_999)).toBe(166_666_833_316_667);
  });

  it('escapes CSV cells against formula injection and quotes what needs it, leaving its own numbers as numbers', () => {
    expect(['=1+1', '+SUM(A1)', '-2+3', '@cmd', '\tx', 'Plain', '-0.000450', '12'].map(csvCell)).toEqual(["'=1+1", "'+SUM(A1)", "'-2+3", "'@cmd", "'\tx", 'Plain', '-0.000450', '12']);
    expect(csvCell('=HYPERLINK("x"),y')).toBe(`"'=HYPERLINK(""x""),y"`);
    expect(csvCell('Line\nbreak')).toBe('"Line\nbreak"');
    expect([csvDollars(1_350), csvDollars(-25_489_350), csvDollars(45_000_000), csvDollars(null)]).toEqual(['0.001350', '-25.489350', '45.000000', '']);
  });
});

describe('the cost report page', () => {
  let stack: Stack;
  let admin: ToolSession;
  let instructor: ToolSession;
  let student: ToolSession;
  let foreignAdmin: ToolSession;
  let platformId: number;
  let courseA: number;
  let courseB: number;
  let taskT1: number;
  let taskT2: number;
  let taskT3: number;
  let foreignTask: number;
  let courseATitle: string;
  let month: string;
  let prevMonth: string;
  const COURSE_B_TITLE = '=SUM(1+1),"x"';

  const db = () => stack.db.db;
  const reEscape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const count = async (query: ReturnType<typeof sql>) => Number((await db().execute<{ n: number }>(query)).rows[0]!.n);
  /** What a refused request must leave as it was: the settings, the tasks' minutes and the audit log. */
  const state = async () => ({
    settings: (await db().execute(sql`select platform_id, hourly_rate_micros, default_manual_minutes, updated_at from cost_settings order by platform_id`)).rows,
    minutes: (await db().execute(sql`select id, manual_minutes_per_assessment, updated_at from tasks order by id`)).rows,
    audits: await count(sql`select count(*)::int as n from audit_log where action <> 'lti.launch'`),
  });
  /** The visible text of the table row with this id. */
  const row = (page: Page, id: string): string => {
    const m = page.html.match(new RegExp(`<tr id="${id}"[^>]*>[\\s\\S]*?</tr>`));
    expect({ id, found: Boolean(m) }).toEqual({ id, found: true });
    return textOf(m![0]);
  };
  const report = async (query = '') => {
    const page = await admin.get(`/admin/costs/report${query}`);
    expect(page.status).toBe(200);
    return page;
  };
  /** The columns of a provider row: scope, compared, charged, OpenAI batch, OpenAI real-time, Anthropic batch, Anthropic real-time, saved, share, KPI. */
  const providerRow = (scope: string, compared: number, micros: [number, number, number, number, number, number], share: string, kpi: string) =>
    [scope, String(compared), ...micros.map(formatUsd), share, kpi].join(' ');

  beforeAll(async () => {
    stack = await startStack();
    const people = await launchTwoPlatforms(stack);
    ({ admin, instructor, student, foreignAdmin } = people);
    const { clientId } = people;

    const home = await homeIds(stack);
    ({ platformId, courseId: courseA, taskId: taskT1 } = home);
    courseATitle = (await db().execute<{ title: string }>(sql`select title from courses where id = ${courseA}`)).rows[0]!.title;
    courseB = Number((await db().execute<{ id: number }>(sql`select id from courses where context_id = 'course-202' and platform_id = ${platformId}`)).rows[0]!.id);
    // A title a spreadsheet would run as a formula, with a comma and quotes: the CSV must neutralise and quote it.
    await db().execute(sql`update courses set title = ${COURSE_B_TITLE} where id = ${courseB}`);
    taskT3 = Number((await db().execute<{ id: number }>(sql`select id from tasks where course_id = ${courseB} order by id limit 1`)).rows[0]!.id);
    taskT2 = Number((await db().execute<{ id: number }>(sql`insert into tasks (course_id, title) values (${courseA}, 'Source analysis') returning id`)).rows[0]!.id);
    const foreignPlatform = Number((await db().execute<{ id: number }>(sql`select id from lti_platforms where client_id = ${clientId}`)).rows[0]!.id);
    foreignTask = Number((await db().execute<{ id: number }>(sql`select t.id from tasks t join courses c on c.id = t.course_id where c.platform_id = ${foreignPlatform} order by t.id limit 1`)).rows[0]!.id);
    const foreignCourse = Number((await db().execute<{ id: number }>(sql`select course_id as id from tasks where id = ${foreignTask}`)).rows[0]!.id);
    ({ month, prevMonth } = (await db().execute<{ month: string; prevMonth: string }>(sql`select to_char(now(), 'YYYY-MM') as month, to_char(now() - interval '1 month', 'YYYY-MM') as "prevMonth"`)).rows[0]!);

    /** A graded result of the task with these token counts and model. */
    const result = async (taskId: number, model: string, input: number, cached: number, output: number) => {
      const a = await createAssessment(stack, { taskId, studentSub: SUBS.student1 });
      await db().execute(sql`update assessments set model = ${model}, input_tokens = ${input}, cached_input_tokens = ${cached}, output_tokens = ${output} where id = ${a.id}`);
      return a;
    };
    const charge = (course: number, amount: number, key: string, o: { assessmentId?: number; queueItemId?: number; mode?: string; taskId?: number; model?: string; tokens?: [number, number, number]; ago?: number; platform?: number; kind?: string } = {}) => sql`
      insert into cost_ledger (platform_id, course_id, month, kind, mode, amount_micros, assessment_id, queue_item_id, task_id, provider, model, input_tokens, cached_input_tokens, output_tokens, idempotency_key)
      values (${o.platform ?? platformId}, ${course}, (date_trunc('month', now()) - make_interval(months => ${o.ago ?? 0}))::date, ${o.kind ?? 'charge'}, ${o.mode ?? 'batch'}, ${amount},
              ${o.assessmentId ?? null}, ${o.queueItemId ?? null}, ${o.taskId ?? null}, ${o.model ? 'openai' : null}, ${o.model ?? null},
              ${o.tokens?.[0] ?? null}, ${o.tokens?.[1] ?? null}, ${o.tokens?.[2] ?? null}, ${key})`;

    // Course A, task T1: two gpt-4o-mini results (10,000 input of which 4,000 cached, 2,000 output), charged at the
    // batch price 1,350 each; a real-time sample test on the alias gpt-4o-mini-2024-07-18 (1,000 in, 500 out) at
    // the standard price 450. Task T2: one gpt-4o result (2,000 in, 1,000 out) charged 7,500.
    const a1 = await result(taskT1, 'gpt-4o-mini', 10_000, 4_000, 2_000);
    const a2 = await result(taskT1, 'gpt-4o-mini', 10_000, 4_000, 2_000);
    const a3 = await result(taskT2, 'gpt-4o', 2_000, 0, 1_000);
    // Course B, task T3: one gpt-4o-mini result like T1's, charged 960 (the ledger is the record); a batch charge
    // whose assessment is gone (no tokens: left out) of 500; a real-time call of a model without a price, 40.
    const b1 = await result(taskT3, 'gpt-4o-mini', 10_000, 4_000, 2_000);
    for (const q of [
      charge(courseA, 1_350, 'charge:a1', { assessmentId: a1.id, queueItemId: a1.queueItemId }),
      charge(courseA, 1_350, 'charge:a2', { assessmentId: a2.id, queueItemId: a2.queueItemId }),
      charge(courseA, 7_500, 'charge:a3', { assessmentId: a3.id, queueItemId: a3.queueItemId }),
      charge(courseA, 450, 'charge:rt', { mode: 'realtime', taskId: taskT1, model: 'gpt-4o-mini-2024-07-18', tokens: [1_000, 0, 500] }),
      charge(courseB, 960, 'charge:b1', { assessmentId: b1.id, queueItemId: b1.queueItemId }),
      charge(courseB, 500, 'charge:b-gone', { assessmentId: 999_999_999 }),
      charge(courseB, 40, 'charge:b-rt', { mode: 'realtime', taskId: taskT3, model: 'text-davinci-003', tokens: [100, 0, 100] }),
      // Not this month's spend: a reservation (not a charge), last month's real-time call, another platform's charge.
      charge(courseA, 900_000, 'reserve:a9', { kind: 'reservation' }),
      charge(courseA, 450, 'charge:last-month', { mode: 'realtime', taskId: taskT1, model: 'gpt-4o-mini', tokens: [1_000, 0, 500], ago: 1 }),
      charge(foreignCourse, 7_777, 'charge:foreign', { platform: foreignPlatform }),
    ]) {
      await db().execute(q);
    }
  }, 180_000);
  afterAll(async () => {
    await stack?.close();
  });

  // By hand (µ$; compared = charges with tokens and a model priced at both providers):
  //   T1 result: OpenAI batch 1,350, OpenAI real-time 2,400, Anthropic (Haiku 4.5) batch 8,200, real-time 16,400.
  //   T1 sample test (1,000 in, 500 out): 75 + 150 = 225; 150 + 300 = 450; 500 + 1,250 = 1,750; 1,000 + 2,500 = 3,500.
  //   T2 result (gpt-4o, Sonnet 4.6): 2,500 + 5,000 = 7,500; 5,000 + 10,000 = 15,000; 3,000 + 7,500 = 10,500; 6,000 + 15,000 = 21,000.
  //   Course A: 4 compared, charged 2,700 + 450 + 7,500 = 10,650; 10,425; 20,250; 28,650; 57,300; saved 9,600 = 47.4 % → not achieved.
  //   Course B: 1 compared, charged 960; 1,350; 2,400; 8,200; 16,400; saved 1,440 = 60.0 % → achieved; 2 left out (500 + 40).
  //   Platform: 5 compared, charged 11,610; 11,775; 22,650; 36,850; 73,700; saved 11,040 = 48.7 % → not achieved.
  const COURSE_A: [number, number, number, number, number, number] = [10_650, 10_425, 20_250, 28_650, 57_300, 9_600];
  const COURSE_B: [number, number, number, number, number, number] = [960, 1_350, 2_400, 8_200, 16_400, 1_440];
  const PLATFORM: [number, number, number, number, number, number] = [11_610, 11_775, 22_650, 36_850, 73_700, 11_040];

  it("compares the month's charges at each provider, per course and for the platform, with the saving and the KPI", async () => {
    const page = await report();
    expect(row(page, `report-course-${courseA}`)).toBe(providerRow(courseATitle, 4, COURSE_A, '47.4 %', 'Not achieved'));
    expect(row(page, `report-course-${courseB}`)).toBe(providerRow(COURSE_B_TITLE, 1, COURSE_B, '60.0 %', 'Achieved'));
    expect(row(page, 'report-platform')).toBe(providerRow('Whole platform', 5, PLATFORM, '48.7 %', 'Not achieved'));
    const text = textOf(page.html);
    expect(text).toContain(`Saved against OpenAI real-time ${formatUsd(11_040)} (48.7 %)`);
    expect(text).toContain('KPI: 60 % cost reduction against real-time ✘ Not achieved');
    expect(text).toContain(`Left out of the comparison: 2 charges (${formatUsd(540)}) without recorded tokens`);
    // The mapping, as the data file has it, and the charts with the same numbers as the table.
    expect(textOf(page.html.match(/<table class="compact sticky-key" id="report-stand-ins">[\s\S]*?<\/table>/)![0])).toContain('Small and fast claude-haiku-4-5 gpt-4o-mini, gpt-4.1-mini');
    const chart = page.html.match(/<figure class="chart" id="report-chart-providers">[\s\S]*?<\/figure>/)![0];
    expect(chart).toContain('role="img"');
    expect(textOf(chart)).toContain(`OpenAI real-time ${formatUsd(22_650)}`);
    expect(textOf(chart)).toContain(`Anthropic batch ${formatUsd(36_850)}`);
    expect(textOf(page.html.match(/<figure class="chart" id="report-chart-saved">[\s\S]*?<\/figure>/)![0])).toContain(`${COURSE_B_TITLE} 60.0 % (KPI achieved)`);
  });

  it('counts only the month asked for, and another platform sees none of it', async () => {
    // Last month: the one real-time call, 450 charged = OpenAI real-time, nothing saved.
    const last = await report(`?month=${prevMonth}`);
    expect(row(last, 'report-platform')).toBe(providerRow('Whole platform', 1, [450, 225, 450, 1_750, 3_500, 0], '0.0 %', 'Not achieved'));
    const foreign = await foreignAdmin.get(`/admin/costs/report?month=${month}`);
    expect(foreign.status).toBe(200);
    // (The dev LMS gives every platform the same course titles: ids and figures tell the tenants apart.)
    expect(foreign.html).not.toContain(`id="report-course-${courseA}"`);
    expect(foreign.html).not.toContain('Source analysis');
    expect(row(foreign, 'report-platform')).toBe(providerRow('Whole platform', 0, [0, 0, 0, 0, 0, 0], '—', 'Nothing to compare'));
    expect(textOf(foreign.html)).toContain(`Left out of the comparison: 1 charge (${formatUsd(7_777)})`);
  });

  it('says ROI is not computed while no rate or minutes are set, and that minutes come from settings, not measurement', async () => {
    const text = textOf((await report()).html);
    expect(text).toContain('The minutes come from the settings below, not from measurement');
    expect(text).toContain('The value of the time saved is not computed: no hourly rate is set.');
    expect(text).toContain('4 assessments without minutes not counted');
    expect(textOf((await report()).html.match(/<tr id="report-roi-platform">[\s\S]*?<\/tr>/)![0])).toBe(`Whole platform 4 0 min (0 h) 4 assessments without minutes not counted Not computed ${formatUsd(12_150)} Not computed —`);
  });

  it.each([
    [{ hourlyRate: 'forty', defaultMinutes: '10' }, 'hourlyRate', 'Enter an hourly rate in dollars with at most two decimals'],
    [{ hourlyRate: '0', defaultMinutes: '10' }, 'hourlyRate', 'An hourly rate is more than $0 and at most $10,000.'],
    [{ hourlyRate: '10000.01', defaultMinutes: '10' }, 'hourlyRate', 'An hourly rate is more than $0 and at most $10,000.'],
    [{ hourlyRate: '45.123', defaultMinutes: '10' }, 'hourlyRate', 'Enter an hourly rate in dollars with at most two decimals'],
    [{ hourlyRate: '45', defaultMinutes: '0' }, 'defaultMinutes', 'Enter whole minutes from 1 to 600'],
    [{ hourlyRate: '45', defaultMinutes: '601' }, 'defaultMinutes', 'Enter whole minutes from 1 to 600'],
    [{ hourlyRate: '45', defaultMinutes: '7.5' }, 'defaultMinutes', 'Enter whole minutes from 1 to 600'],
  ])('refuses the settings %j beside the field, keeping what was typed, changing nothing', async (form, field, message) => {
    const before = await state();
    const res = await admin.post('/admin/costs/report/settings', form, { htmx: true });
    expect(res.status).toBe(422);
    const id = field === 'hourlyRate' ? 'report-rate' : 'report-minutes';
    const input = (name: string) => res.html.match(new RegExp(`<input id="report-[a-z]+" name="${name}"[^>]*>`))![0];
    expect(input(field)).toContain(`value="${form[field as keyof typeof form]}"`);
    expect(input(field)).toContain('aria-invalid="true"');
    expect(textOf(res.html.match(new RegExp(`<p id="${id}-error" class="field-error">[^<]*</p>`))![0])).toContain(message);
    // The other field keeps what was typed too, without a message; the answer is the report's fragment (htmx).
    const other = field === 'hourlyRate' ? 'defaultMinutes' : 'hourlyRate';
    expect(input(other)).toContain(`value="${form[other as keyof typeof form]}"`);
    expect(input(other)).not.toContain('aria-invalid');
    expect(res.html).not.toMatch(/<!doctype html>/i);
    expect(await state()).toEqual(before);
  });

  it('refuses a field sent twice or missing with a 422 (never the second value, never a default), changing nothing', async () => {
    const before = await state();
    const post = (body: string) =>
      fetch(`${stack.toolUrl}/admin/costs/report/settings`, {
        method: 'POST',
        headers: { authorization: `Bearer ${admin.ltik}`, 'x-csrf-token': admin.csrf, cookie: admin.browser.jar.header(stack.toolUrl), 'content-type': 'application/x-www-form-urlencoded' },
        body,
      });
    for (const body of ['hourlyRate=45&hourlyRate=50&defaultMinutes=10', 'hourlyRate=45&defaultMinutes=10&defaultMinutes=12', 'defaultMinutes=10']) {
      const res = await post(body);
      expect({ body, status: res.status }).toEqual({ body, status: 422 });
      expect(await res.text()).toContain('aria-invalid="true"');
    }
    expect(await state()).toEqual(before);
  });

  it('saves the hourly rate and default minutes, audited, and the report uses them', async () => {
    const res = await admin.post('/admin/costs/report/settings', { hourlyRate: '$45', defaultMinutes: ' 10 ' }, { htmx: true });
    expect(res.status).toBe(200);
    expect(textOf(res.html)).toContain('Cost settings saved');
    const saved = await db().execute<{ hourly_rate_micros: number; default_manual_minutes: number; updated_by: number }>(sql`select hourly_rate_micros, default_manual_minutes, updated_by from cost_settings where platform_id = ${platformId}`);
    expect(saved.rows).toEqual([{ hourly_rate_micros: 45_000_000, default_manual_minutes: 10, updated_by: expect.any(Number) }]);
    const audit = await db().execute<{ details: unknown }>(sql`select details from audit_log where action = 'cost_settings.changed' and platform_id = ${platformId} order by id desc limit 1`);
    expect(audit.rows[0]!.details).toEqual({ before: { hourlyRateMicros: null, defaultManualMinutes: null }, after: { hourlyRateMicros: 45_000_000, defaultManualMinutes: 10 } });
    expect(res.html).toContain('value="45.00"');
  });

  it("sets a task's own minutes, audited; bad minutes are refused beside that task's field, changing nothing", async () => {
    const before = await state();
    const bad = await admin.post(`/admin/costs/report/tasks/${taskT1}/minutes?month=${month}`, { minutes: 'twelve' }, { htmx: true });
    expect(bad.status).toBe(422);
    expect(bad.html).toMatch(new RegExp(`<input id="report-task-${taskT1}-minutes" name="minutes"[^>]*value="twelve"[^>]*aria-invalid="true"`));
    expect(textOf(bad.html.match(new RegExp(`<p id="report-task-${taskT1}-error"[^>]*>[^<]*</p>`))![0])).toBe('Enter whole minutes from 1 to 600, or leave it empty.');
    expect((await admin.post(`/admin/costs/report/tasks/${taskT1}/minutes`, { minutes: '601' }, { htmx: true })).status).toBe(422);
    // A task without charges in the month shown has no row: its message is shown above the report instead.
    const rowless = await admin.post(`/admin/costs/report/tasks/${taskT2}/minutes?month=${prevMonth}`, { minutes: '0' }, { htmx: true });
    expect(rowless.status).toBe(422);
    expect(rowless.html).not.toContain(`id="report-task-${taskT2}"`);
    expect(textOf(rowless.html.match(/<div class="alert alert-error" role="alert" id="report-task-error">[^<]*<\/div>/)![0])).toBe('Minutes per assessment not saved: Enter whole minutes from 1 to 600, or leave it empty.');
    expect(await state()).toEqual(before);

    const ok = await admin.post(`/admin/costs/report/tasks/${taskT1}/minutes?month=${month}`, { minutes: '12' }, { htmx: true });
    expect(ok.status).toBe(200);
    expect(textOf(ok.html)).toContain('Minutes per assessment saved for');
    expect(await count(sql`select manual_minutes_per_assessment as n from tasks where id = ${taskT1}`)).toBe(12);
    const audit = await db().execute<{ details: unknown; course_id: number }>(sql`select details, course_id from audit_log where action = 'task.manual_minutes_changed' and entity_id = ${String(taskT1)} order by id desc limit 1`);
    expect(audit.rows[0]).toEqual({ details: { before: null, after: 12 }, course_id: courseA });
  });

  it("refuses another platform's task, and tasks that do not exist, with 404 and changes nothing", async () => {
    const before = await state();
    for (const id of [String(foreignTask), '999999999', '0', 'abc', '1.5']) {
      const res = await admin.post(`/admin/costs/report/tasks/${id}/minutes`, { minutes: '5' }, { htmx: true });
      expect({ id, status: res.status }).toEqual({ id, status: 404 });
    }
    // Whose task comes before what the form says: bad minutes for a foreign task are still not found.
    expect((await admin.post(`/admin/costs/report/tasks/${foreignTask}/minutes`, { minutes: 'x' }, { htmx: true })).status).toBe(404);
    // The foreign platform's administrator cannot set the home task's minutes either.
    expect((await foreignAdmin.post(`/admin/costs/report/tasks/${taskT1}/minutes`, { minutes: '5' }, { htmx: true })).status).toBe(404);
    expect(await state()).toEqual(before);
  });

  // ROI at $45 an hour, default 10 minutes, T1 12 minutes (µ$: minutes × 45,000,000 ÷ 60 = 750,000 a minute):
  //   T1: 2 results × 12 = 24 min → 18,000,000; LLM cost 2,700 + 450 = 3,150.  T2: 1 × 10 (default) = 10 min → 7,500,000; 7,500.
  //   Course A: 3 assessments, 34 min → 25,500,000; cost 10,650; net 25,489,350; 25,500,000 ÷ 10,650 = 2,394 ×.
  //   T3: 1 × 10 = 10 min → 7,500,000; cost 960 + 40 = 1,000. No task recorded: 0 results, cost 500.
  //   Course B: 1 assessment, 10 min → 7,500,000; cost 1,500; net 7,498,500; 5,000 ×.
  //   Platform: 4 assessments, 44 min → 33,000,000; cost 12,150; net 32,987,850; 2,716 ×.
  it('computes ROI per course, task and platform with task and default minutes', async () => {
    const page = await report();
    expect(row(page, `report-roi-course-${courseA}`)).toBe(`${courseATitle} 3 34 min (0.6 h) ${formatUsd(25_500_000)} ${formatUsd(10_650)} ${formatUsd(25_489_350)} 2,394 ×`);
    expect(row(page, `report-roi-course-${courseB}`)).toBe(`${COURSE_B_TITLE} 1 10 min (0.2 h) ${formatUsd(7_500_000)} ${formatUsd(1_500)} ${formatUsd(7_498_500)} 5,000 ×`);
    expect(row(page, 'report-roi-platform')).toBe(`Whole platform 4 44 min (0.7 h) ${formatUsd(33_000_000)} ${formatUsd(12_150)} ${formatUsd(32_987_850)} 2,716 ×`);
    // Task rows: title, course, assessments, minutes (and the form's hidden label and button), time, value, LLM cost.
    const task = (id: number) => row(page, `report-task-${id}`).replace(/ Minutes per assessment for .*? Save minutes for .*? (?=\d+ min)/, ' ');
    expect(task(taskT1)).toMatch(new RegExp(`^.+ ${reEscape(courseATitle)} 2 12 \\(the task\\) 24 min \\(0\\.4 h\\) \\$18\\.00 ${reEscape(formatUsd(3_150))}$`));
    expect(task(taskT2)).toBe(`Source analysis ${courseATitle} 1 10 (platform default) 10 min (0.2 h) $7.50 ${formatUsd(7_500)}`);
    expect(task(taskT3)).toMatch(new RegExp(` ${reEscape(COURSE_B_TITLE)} 1 10 \\(platform default\\) 10 min \\(0\\.2 h\\) \\$7\\.50 ${reEscape(formatUsd(1_000))}$`));
    expect(page.html).not.toContain('id="report-roi-missing"');
  });

  it('counts no value for assessments when neither the task nor the platform has minutes, and says how many', async () => {
    expect((await admin.post('/admin/costs/report/settings', { hourlyRate: '45', defaultMinutes: '' }, { htmx: true })).status).toBe(200);
    const page = await report();
    // Only T1's 24 minutes remain: 18,000,000; net 18,000,000 − 12,150.
    expect(row(page, 'report-roi-platform')).toBe(`Whole platform 4 24 min (0.4 h) 2 assessments without minutes not counted ${formatUsd(18_000_000)} ${formatUsd(12_150)} ${formatUsd(18_000_000 - 12_150)} 1,481 ×`);
    expect(row(page, `report-task-${taskT2}`)).toMatch(new RegExp(` 1 Not set .*— — ${reEscape(formatUsd(7_500))}$`));
    expect(textOf(page.html)).toContain("2 assessments without minutes not counted: neither their task nor the platform has minutes per assessment.");
    expect((await admin.post('/admin/costs/report/settings', { hourlyRate: '45', defaultMinutes: '10' }, { htmx: true })).status).toBe(200);
  });

  it('downloads the month as CSV: a row per course and the platform total, text neutralised against formulas', async () => {
    const res = await admin.get(`/admin/costs/report.csv?month=${month}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(res.headers.get('content-disposition')).toBe(`attachment; filename=cost-report-${month}.csv`);
    // (A byte order mark leads the file for spreadsheets; the decoder of the test's fetch drops it.)
    const lines = res.html.replace(/^\uFEFF/, '').split('\r\n');
    expect(lines[0]).toMatch(/^month,course_id,course,batch_results,llm_cost_usd,compared_requests,/);
    expect(lines).toHaveLength(5); // header, two courses, the total, and the final line end
    expect(lines.at(-1)).toBe('');
    expect(lines).toContain(`${month},${courseA},${courseATitle},3,0.010650,4,0.010650,0.010425,0.020250,0.028650,0.057300,0.009600,47.4,no,0,0.000000,34,0,45.000000,25.500000,25.489350`);
    expect(lines).toContain(`${month},${courseB},"'=SUM(1+1),""x""",1,0.001500,1,0.000960,0.001350,0.002400,0.008200,0.016400,0.001440,60.0,yes,2,0.000540,10,0,45.000000,7.500000,7.498500`);
    expect(lines[3]).toBe(`${month},,Platform total,4,0.012150,5,0.011610,0.011775,0.022650,0.036850,0.073700,0.011040,48.7,no,2,0.000540,44,0,45.000000,33.000000,32.987850`);
    expect(res.headers.get('cache-control')).toContain('no-store');
  });

  it('refuses a malformed month on the page and the CSV with a 400', async () => {
    for (const p of ['/admin/costs/report?month=2026-13', '/admin/costs/report.csv?month=0000-01', '/admin/costs/report?month=december', '/admin/costs/report?month=2026-1']) {
      const res = await admin.get(p);
      expect({ p, status: res.status }).toEqual({ p, status: 400 });
      expect(textOf(res.html)).toContain('Choose a month as YYYY-MM');
    }
  });

  it('has a print view without navigation or forms, a print stylesheet, and is linked from the Costs page', async () => {
    const page = await report();
    expect(page.html).toContain('<nav aria-label="Main">');
    expect(page.html).toContain(`/admin/costs/report?month=${month}&amp;print=1`);
    expect(page.html).toContain(`/admin/costs/report.csv?month=${month}`);
    const print = await report(`?month=${month}&print=1`);
    expect(print.html).not.toContain('<nav');
    expect(print.html).not.toMatch(/<form\b/);
    expect(print.html).toContain('class="cost-report print-view"');
    expect(textOf(print.html)).toContain(`Hourly rate: ${formatUsd(45_000_000)} an hour. Default minutes per assessment: 10 minutes.`);
    expect(row(print, 'report-platform')).toBe(providerRow('Whole platform', 5, PLATFORM, '48.7 %', 'Not achieved'));
    const css = await fetch(`${stack.toolUrl}/public/css/cost-report.css`);
    expect(css.status).toBe(200);
    const printRules = (await css.text()).match(/@media print \{[\s\S]*\}/)![0];
    expect(printRules).toMatch(/header\.top nav[^{]*form[^{]*\{ display: none !important; \}/);
    expect(print.html).toContain('href="/public/css/cost-report.css"');
    const costs = await admin.get('/admin/costs');
    expect(costs.html).toMatch(/<a href="\/admin\/costs\/report\?ltik=[^"]+">Cost report/);
  });

  it('answers a plain htmx request with the report fragment only', async () => {
    const res = await admin.get('/admin/costs/report', { htmx: true });
    expect(res.status).toBe(200);
    expect(res.html.trimStart()).toMatch(/^<section id="cost-report"/);
    expect(res.html).not.toMatch(/<!doctype html>/i);
    expect(res.headers.get('vary')).toContain('HX-Request');
  });

  it('refuses instructors and students on every route (403), changing nothing', async () => {
    const before = await state();
    for (const who of [instructor, student]) {
      for (const [method, p, form] of [
        ['GET', '/admin/costs/report', undefined],
        ['GET', '/admin/costs/report.csv', undefined],
        ['POST', '/admin/costs/report/settings', { hourlyRate: '1', defaultMinutes: '1' }],
        ['POST', `/admin/costs/report/tasks/${taskT1}/minutes`, { minutes: '1' }],
      ] as const) {
        const res = await who.request(p, { method, form, htmx: method === 'POST' });
        expect({ p, status: res.status }).toEqual({ p, status: 403 });
        expect(res.html).not.toContain(formatUsd(11_610));
      }
    }
    expect(await state()).toEqual(before);
  });
});
