import { describe, expect, test } from '@jest/globals';
import { decideProviders, chooseForItem, optionCostMicros, type OptimizerInputs, type OptimizerItem } from '../src/models/batches/optimizer.js';
import { explainBatch } from '../src/models/batches/optimizer-explain.js';
import { getModelPrice } from '../src/providers/pricing.js';

// The cost optimizer's rules (optimizer.ts), on hand-made inputs: no database, every figure stated.

const H = 3_600_000;
const now = new Date('2026-12-04T12:00:00Z');
const OPENAI = { provider: 'openai', model: 'gpt-4o-mini' };
const ANTHROPIC = { provider: 'anthropic', model: 'claude-haiku-4-5' };

function item(id: number, over: Partial<OptimizerItem> = {}): OptimizerItem {
  return { id, courseId: 1, promptVersionId: 10, provider: 'openai', model: 'gpt-4o-mini', estInputTokens: 2000, estOutputTokens: 400, deadline: null, ...over };
}

function inputs(over: Partial<OptimizerInputs> = {}): OptimizerInputs {
  return {
    now,
    options: new Map([[10, [OPENAI, ANTHROPIC]]]),
    approved: new Map([[1, new Set(['openai', 'anthropic'])]]),
    prices: new Map([
      ['gpt-4o-mini', getModelPrice('gpt-4o-mini', now).batch],
      ['claude-haiku-4-5', getModelPrice('claude-haiku-4-5', now).batch],
    ]),
    prefixTokens: new Map([[10, 0]]),
    turnaround: new Map([
      ['openai', { p50Ms: 1 * H, p95Ms: 3 * H, batches: 40 }],
      ['anthropic', { p50Ms: 5 * H, p95Ms: 9 * H, batches: 40 }],
    ]),
    agreement: new Map(),
    budgetLeftMicros: null,
    ...over,
  };
}

describe('the cost optimizer', () => {
  test('with no deadline it takes the cheapest approved option (gpt-4o-mini batch is cheaper than Haiku)', () => {
    const c = chooseForItem(item(1), inputs());
    expect(c).toMatchObject({ provider: 'openai', model: 'gpt-4o-mini', why: 'cheapest' });
    // 2,000 in × $0.075 + 400 out × $0.30 per MTok = 150 + 120 micro-dollars.
    expect(c.costMicros).toBe(270);
  });

  test('only providers the course approves are options', () => {
    const only = inputs({ approved: new Map([[1, new Set(['anthropic'])]]) });
    expect(chooseForItem(item(1), only)).toMatchObject({ provider: 'anthropic', model: 'claude-haiku-4-5', why: 'only_option' });
    const none = inputs({ approved: new Map([[1, new Set<string>()]]) });
    expect(chooseForItem(item(1), none)).toMatchObject({ provider: 'openai', why: 'no_approved_option' });
  });

  test('the deadline picks the faster provider when the cheaper one would miss it', () => {
    // Anthropic made cheaper here (its prefix cached), but slower: p95 9 h.
    const cheapAnthropic = inputs({ prices: new Map([['gpt-4o-mini', getModelPrice('gpt-4o-mini', now).batch], ['claude-haiku-4-5', { ...getModelPrice('claude-haiku-4-5', now).batch, inputUsdPerMTok: 0.01, outputUsdPerMTok: 0.01 }]]) });
    expect(chooseForItem(item(1), cheapAnthropic)).toMatchObject({ provider: 'anthropic', why: 'cheapest' });
    expect(chooseForItem(item(1, { deadline: new Date(now.getTime() + 12 * H) }), cheapAnthropic)).toMatchObject({ provider: 'anthropic', why: 'cheapest' });
    expect(chooseForItem(item(1, { deadline: new Date(now.getTime() + 4 * H) }), cheapAnthropic)).toMatchObject({ provider: 'openai', why: 'cheapest_in_time' });
    // Nobody's p95 fits one hour: the fastest by median.
    expect(chooseForItem(item(1, { deadline: new Date(now.getTime() + 1 * H) }), cheapAnthropic)).toMatchObject({ provider: 'openai', why: 'fastest_none_in_time' });
  });

  test('an option clearly below the best agreement on the prompt version is dropped', () => {
    const agreement = new Map([
      ['openai:10', { approvalRate: 0.7, reviewed: 50 }],
      ['anthropic:10', { approvalRate: 0.9, reviewed: 50 }],
    ]);
    expect(chooseForItem(item(1), inputs({ agreement }))).toMatchObject({ provider: 'anthropic', why: 'only_option' });
    // Too few decisions to judge: no effect.
    const few = new Map([['openai:10', { approvalRate: 0.1, reviewed: 5 }]]);
    expect(chooseForItem(item(1), inputs({ agreement: few }))).toMatchObject({ provider: 'openai' });
  });

  test('over the budget left, the newest dearer choices go back to the cheapest option', () => {
    const deadline = new Date(now.getTime() + 4 * H);
    const dear = inputs({ turnaround: new Map([['openai', { p50Ms: 10 * H, p95Ms: 20 * H, batches: 9 }], ['anthropic', { p50Ms: 1 * H, p95Ms: 2 * H, batches: 9 }]]) });
    const items = [1, 2, 3].map((id) => item(id, { deadline }));
    const free = decideProviders(items, dear);
    expect(free.map((c) => c.provider)).toEqual(['anthropic', 'anthropic', 'anthropic']);
    const haiku = free[0]!.costMicros;
    const cheap = optionCostMicros(items[0]!, 'gpt-4o-mini', dear.prices.get('gpt-4o-mini')!, 0);
    const tight = decideProviders(items, { ...dear, budgetLeftMicros: haiku + 2 * cheap });
    expect(tight.map((c) => [c.provider, c.why])).toEqual([['anthropic', 'cheapest_in_time'], ['openai', 'budget'], ['openai', 'budget']]);
  });

  test('a stand-in model that would get fewer items than a batch holds is not used', () => {
    const cheapAnthropic = inputs({ prices: new Map([['gpt-4o-mini', getModelPrice('gpt-4o-mini', now).batch], ['claude-haiku-4-5', { ...getModelPrice('claude-haiku-4-5', now).batch, inputUsdPerMTok: 0.01, outputUsdPerMTok: 0.01 }]]) });
    const items = [item(1), item(2)];
    expect(decideProviders(items, cheapAnthropic, 2).map((c) => c.provider)).toEqual(['anthropic', 'anthropic']);
    expect(decideProviders(items, cheapAnthropic, 3).map((c) => [c.provider, c.why])).toEqual([['openai', 'too_few'], ['openai', 'too_few']]);
  });

  test("the prompt's static prefix is priced at the cached rate once it is long enough to be cached", () => {
    const rates = { ...getModelPrice('gpt-4o-mini', now).standard };
    const it = item(1, { estInputTokens: 3000, estOutputTokens: 0 });
    // $0.15/MTok uncached, $0.075 cached: 2,000 cached tokens save 150 micro-dollars.
    expect(optionCostMicros(it, 'gpt-4o-mini', rates, 0)).toBe(450);
    expect(optionCostMicros(it, 'gpt-4o-mini', rates, 2000)).toBe(300);
    // Under OpenAI's 1,024-token minimum nothing is cached; Haiku 4.5 needs 4,096.
    expect(optionCostMicros(it, 'gpt-4o-mini', rates, 1000)).toBe(450);
    expect(optionCostMicros(it, 'claude-haiku-4-5', rates, 2000)).toBe(450);
  });

  test('the explanation names each option with its cost and p95, then the rule that decided', () => {
    const deadline = new Date(now.getTime() + 4 * H);
    const fast = inputs({ turnaround: new Map([['openai', { p50Ms: 10 * H, p95Ms: 20 * H, batches: 9 }], ['anthropic', { p50Ms: 1 * H, p95Ms: 2.1 * H, batches: 9 }]]) });
    const items = [1, 2].map((id) => item(id, { deadline }));
    const choices = decideProviders(items, fast);
    const e = explainBatch({ provider: 'anthropic', model: 'claude-haiku-4-5' }, items, choices, fast);
    expect(e.text).toBe(
      'OpenAI (gpt-4o-mini): $0.0005, p95 20.0 h; Anthropic (claude-haiku-4-5): $0.0040, p95 2.1 h. ' +
        'Sent to Anthropic (claude-haiku-4-5) — all items: the cheapest that meets their deadline (a cheaper one would miss it). Earliest deadline 2026-12-04 16:00 UTC.',
    );
    expect(e.options.map((o) => o.provider)).toEqual(['openai', 'anthropic']);
  });

  test('a provider without history is shown as assumed (24 h)', () => {
    const e = explainBatch(OPENAI, [item(1)], decideProviders([item(1)], inputs({ turnaround: new Map() })), inputs({ turnaround: new Map() }));
    expect(e.text).toContain('p95 24.0 h (assumed)');
    expect(e.text).toContain('No deadline.');
  });
});
