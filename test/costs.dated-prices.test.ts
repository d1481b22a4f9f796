import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { sql } from 'drizzle-orm';
import { startStack, type Stack } from './helpers/stack.js';
import { createAssessment, homeIds, SUBS } from './helpers/assessments.js';
import { realtimeComparison, type RealtimeComparison } from '../src/models/budgets/budgets.repository.js';
import { standardRates } from '../src/models/budgets/spend.service.js';
import { costAtRates, listModels, modelPriceAt, parsePriceTable } from '../src/providers/pricing.js';

/**
 * The Costs page's "saved vs real-time" comparison prices each batch charge at the standard price of the charge's
 * own (UTC) day, not today's. The shipped price file records no earlier prices, so this test gives the comparison
 * its own table (the same composition spendReport makes: realtimeComparison(…, standardRates(models))), with
 * gpt-4o-mini at a higher standard price until 2025-01-01. Figures are computed by hand below.
 */
const PRICES = `currency: USD
unit: per_million_tokens
models:
  gpt-4o-mini:
    aliases: [gpt-4o-mini-2024-07-18]
    reasoning: false
    standard: { input: 0.15, cached_input: 0.075, output: 0.60, checked: 2025-07-04 }
    batch: { input: 0.075, cached_input: null, output: 0.30, checked: 2026-09 }
    previous:
      - since: 2024-07-18
        until: 2025-01-01
        standard: { input: 0.50, cached_input: 0.25, output: 1.00, checked: 2024-12-01 }
        batch: { input: 0.25, cached_input: null, output: 0.50, checked: 2024-12-01 }
`;

// Every fixture result used 431 input and 287 output tokens, none cached:
//   earlier standard price: 431 × 0.50 + 287 × 1.00 = 502.5 → 503 µ$ (rounded half up), batch 251.25 → 251;
//   current standard price: 431 × 0.15 + 287 × 0.60 = 236.85 → 237 µ$, batch 118.425 → 118.
const EARLIER_STANDARD = 503;
const CURRENT_STANDARD = 237;
const TOKENS = { inputTokens: 431, outputTokens: 287 };

describe('real-time comparison at the price of each charge\'s day', () => {
  let stack: Stack;
  let platformId: number;
  let courseId: number;
  let currentMonth: string;
  const db = () => stack.db.db;
  const table = parsePriceTable(PRICES, 'test prices');
  const rates = standardRates([modelPriceAt(table, 'gpt-4o-mini')]);

  /** Charges, each for its own result, written on a UTC instant (null: now). */
  const charges: Array<{ key: string; at: string | null; model: string; amount: number }> = [
    // Before the first recorded price: the earliest recorded price applies (as pricing.ts prices such a day).
    { key: 'before-first', at: '2024-06-30T12:00:00Z', model: 'gpt-4o-mini', amount: 251 },
    // The last half hour of the earlier price's last day, through the model's alias.
    { key: 'earlier-last-day', at: '2024-12-31T23:30:00Z', model: 'gpt-4o-mini-2024-07-18', amount: 251 },
    // The first minutes of the current price.
    { key: 'current-first-day', at: '2025-01-01T00:10:00Z', model: 'gpt-4o-mini', amount: 118 },
    { key: 'today', at: null, model: 'gpt-4o-mini', amount: 118 },
  ];

  const byMonth = (rows: RealtimeComparison[]) => [...rows].sort((a, b) => a.month.localeCompare(b.month));
  const expected = () => [
    { month: '2024-06-01', courseId, pricedCharges: 1, chargedMicros: 251, standardMicros: EARLIER_STANDARD, uncachedMicros: EARLIER_STANDARD, unpricedCharges: 0 },
    { month: '2024-12-01', courseId, pricedCharges: 1, chargedMicros: 251, standardMicros: EARLIER_STANDARD, uncachedMicros: EARLIER_STANDARD, unpricedCharges: 0 },
    { month: '2025-01-01', courseId, pricedCharges: 1, chargedMicros: 118, standardMicros: CURRENT_STANDARD, uncachedMicros: CURRENT_STANDARD, unpricedCharges: 0 },
    { month: currentMonth, courseId, pricedCharges: 1, chargedMicros: 118, standardMicros: CURRENT_STANDARD, uncachedMicros: CURRENT_STANDARD, unpricedCharges: 0 },
  ];

  beforeAll(async () => {
    stack = await startStack();
    await stack.browser().launch(stack.devlmsUrl, 'instructor', { task: '1' });
    await stack.browser().launch(stack.devlmsUrl, 'student1', { task: '1' });
    const home = await homeIds(stack);
    platformId = home.platformId;
    courseId = home.courseId;
    currentMonth = (await db().execute<{ m: string }>(sql`select date_trunc('month', now() at time zone 'UTC')::date::text as m`)).rows[0]!.m;
    for (const c of charges) {
      const a = await createAssessment(stack, { taskId: home.taskId, studentSub: SUBS.student1 });
      await db().execute(sql`update assessments set model = ${c.model} where id = ${a.id}`);
      const at = c.at === null ? sql`now()` : sql`${c.at}::timestamptz`;
      await db().execute(sql`
        insert into cost_ledger (platform_id, course_id, month, kind, mode, amount_micros, assessment_id, queue_item_id, idempotency_key, created_at)
        values (${platformId}, ${courseId}, date_trunc('month', ${at} at time zone 'UTC')::date, 'charge', 'batch', ${c.amount}, ${a.id}, ${a.queueItemId}, ${`charge:${c.key}`}, ${at})`);
    }
  }, 120_000);
  afterAll(async () => {
    await stack?.close();
  });

  it('gives each price period its own rate row: the oldest open back in time, the current one open-ended', () => {
    expect(rates).toEqual([
      { model: 'gpt-4o-mini', since: null, until: '2025-01-01', input: 500_000, cachedInput: 250_000, output: 1_000_000 },
      { model: 'gpt-4o-mini-2024-07-18', since: null, until: '2025-01-01', input: 500_000, cachedInput: 250_000, output: 1_000_000 },
      { model: 'gpt-4o-mini', since: '2025-01-01', until: null, input: 150_000, cachedInput: 75_000, output: 600_000 },
      { model: 'gpt-4o-mini-2024-07-18', since: '2025-01-01', until: null, input: 150_000, cachedInput: 75_000, output: 600_000 },
    ]);
    // The shipped file records no earlier price: one open-ended row per model and alias, today's price for every day.
    const shipped = standardRates();
    expect(shipped.length).toBe(listModels().reduce((n, m) => n + 1 + m.aliases.length, 0));
    expect(shipped.every((r) => r.since === null && r.until === null)).toBe(true);
  });

  it('compares a charge inside the earlier period at the earlier price, and one from the change on at today\'s', async () => {
    const rows = byMonth(await realtimeComparison(db(), platformId, '2024-01-01', rates));
    expect(rows).toEqual(expected());
    // The same figures as pricing.ts gives for each charge's day.
    expect(costAtRates(TOKENS, modelPriceAt(table, 'gpt-4o-mini', '2024-12-31T23:30:00Z').standard)).toBe(EARLIER_STANDARD);
    expect(costAtRates(TOKENS, modelPriceAt(table, 'gpt-4o-mini', '2024-06-30').standard)).toBe(EARLIER_STANDARD);
    expect(costAtRates(TOKENS, modelPriceAt(table, 'gpt-4o-mini', '2025-01-01T00:10:00Z').standard)).toBe(CURRENT_STANDARD);
    expect(costAtRates(TOKENS, modelPriceAt(table, 'gpt-4o-mini').standard)).toBe(CURRENT_STANDARD);
  });

  it('takes the charge\'s UTC day whatever the session\'s time zone', async () => {
    // In Auckland (UTC+13 then) the earlier price's last half hour is already 1 January, and in Honolulu (UTC−10) the
    // current price's first minutes are still 31 December: a local day would price both at the other period.
    for (const zone of ['Pacific/Auckland', 'Pacific/Honolulu']) {
      const rows = await db().transaction(async (tx) => {
        await tx.execute(sql.raw(`set local time zone '${zone}'`));
        return realtimeComparison(tx, platformId, '2024-01-01', rates);
      });
      expect(byMonth(rows)).toEqual(expected());
    }
  });
});
