import { describe, expect, it } from '@jest/globals';
import {
  actualCostMicros,
  costAtRates,
  estimateCostMicros,
  getModelPrice,
  isKnownModel,
  listModels,
  modelPriceAt,
  parsePriceTable,
  priceDay,
  providerOfModel,
  UnknownModelError,
} from '../../src/providers/pricing.js';

describe('price table (data/prices/openai.yml)', () => {
  it('lists every model the product offers, each with a checked date', () => {
    const ids = listModels().map((m) => m.model);
    for (const id of ['gpt-4o-mini', 'gpt-3.5-turbo', 'gpt-4o', 'gpt-4', 'gpt-4.1', 'gpt-4.1-mini', 'gpt-4.1-nano', 'gpt-5', 'gpt-5-mini', 'gpt-5-nano', 'o4-mini', 'gpt-5.4-mini', 'gpt-5.5']) {
      expect(ids).toContain(id);
    }
    for (const m of listModels()) {
      expect(m.standard.checked).toMatch(/^\d{4}-\d{2}/);
      expect(m.batch.checked).toMatch(/^\d{4}-\d{2}/);
    }
  });

  it('prices GPT-4o mini at $0.15/$0.60 standard and $0.075/$0.30 batch', () => {
    const p = getModelPrice('gpt-4o-mini');
    expect(p.standard).toMatchObject({ inputUsdPerMTok: 0.15, cachedInputUsdPerMTok: 0.075, outputUsdPerMTok: 0.6 });
    expect(p.batch).toMatchObject({ inputUsdPerMTok: 0.075, outputUsdPerMTok: 0.3 });
  });

  it('has batch input and output at exactly half the standard price for every model (the published discount)', () => {
    for (const m of listModels()) {
      expect([m.model, m.batch.inputUsdPerMTok * 2]).toEqual([m.model, m.standard.inputUsdPerMTok]);
      expect([m.model, m.batch.outputUsdPerMTok * 2]).toEqual([m.model, m.standard.outputUsdPerMTok]);
    }
  });

  it('prices gpt-3.5-turbo at $0.50/$1.50 standard and $0.25/$0.75 batch, with a 16,385-token window', () => {
    const p = getModelPrice('gpt-3.5-turbo');
    expect(p).toMatchObject({ model: 'gpt-3.5-turbo', aliases: ['gpt-3.5-turbo-0125'], reasoning: false, structuredOutputs: false, contextWindow: 16385 });
    expect(p.standard).toEqual({ inputUsdPerMTok: 0.5, cachedInputUsdPerMTok: 0.5, outputUsdPerMTok: 1.5, cachedInputPublished: false, checked: '2025-07-04' });
    expect(p.batch).toEqual({ inputUsdPerMTok: 0.25, cachedInputUsdPerMTok: 0.25, outputUsdPerMTok: 0.75, cachedInputPublished: false, checked: '2025-07-04' });
    expect(getModelPrice('gpt-3.5-turbo-0125')).toBe(p);
  });

  it('prices gpt-4 at $30/$60 standard and $15/$30 batch, with an 8,192-token window', () => {
    const p = getModelPrice('gpt-4');
    expect(p).toMatchObject({ model: 'gpt-4', aliases: ['gpt-4-0613'], reasoning: false, structuredOutputs: false, contextWindow: 8192 });
    expect(p.standard).toEqual({ inputUsdPerMTok: 30, cachedInputUsdPerMTok: 30, outputUsdPerMTok: 60, cachedInputPublished: false, checked: '2025-07-04' });
    expect(p.batch).toEqual({ inputUsdPerMTok: 15, cachedInputUsdPerMTok: 15, outputUsdPerMTok: 30, cachedInputPublished: false, checked: '2025-07-04' });
    expect(getModelPrice('gpt-4-0613')).toBe(p);
    // Models that answer in a strict JSON schema are marked so by default; these two cannot.
    expect(getModelPrice('gpt-4o-mini').structuredOutputs).toBe(true);
  });

  it('bills cached tokens at the input price where no cached batch price is published', () => {
    const p = getModelPrice('gpt-4o-mini').batch;
    expect(p.cachedInputPublished).toBe(false);
    expect(p.cachedInputUsdPerMTok).toBe(0.075);
    expect(getModelPrice('gpt-4.1-nano').batch.cachedInputPublished).toBe(true);
  });

  it('resolves dated snapshots to their model', () => {
    expect(getModelPrice('gpt-4o-mini-2024-07-18').model).toBe('gpt-4o-mini');
    expect(isKnownModel('gpt-5-2025-08-07')).toBe(true);
    expect(isKnownModel('gpt-2')).toBe(false);
  });

  it('refuses an unknown model with a message naming the known ones', () => {
    expect(() => getModelPrice('gpt-9')).toThrow(UnknownModelError);
    expect(() => estimateCostMicros({ inputTokens: 1, outputTokens: 1 }, 'gpt-9', 'batch')).toThrow(
      /No price is known for model "gpt-9". Known models: .*gpt-4o-mini.*claude-haiku-4-5.*data\/prices\//,
    );
  });

  it('finds each model in its own provider\'s file, and only there when a provider is named', () => {
    expect(providerOfModel('gpt-4o-mini')).toBe('openai');
    expect(providerOfModel('claude-haiku-4-5')).toBe('anthropic');
    expect(providerOfModel('gpt-9')).toBeNull();
    expect(isKnownModel('claude-haiku-4-5')).toBe(true);
    expect(isKnownModel('claude-haiku-4-5', 'openai')).toBe(false);
    expect(isKnownModel('claude-haiku-4-5', 'anthropic')).toBe(true);
    expect(() => getModelPrice('claude-haiku-4-5', undefined, 'openai')).toThrow(UnknownModelError);
    expect(listModels(undefined, 'anthropic').map((m) => m.model)).toEqual(['claude-haiku-4-5', 'claude-sonnet-4-6', 'claude-opus-4-7']);
    expect(listModels(undefined, 'openai').some((m) => m.model.startsWith('claude'))).toBe(false);
  });
});

describe('Anthropic prices and prompt-cache writes (data/prices/anthropic.yml)', () => {
  it('prices Claude Haiku 4.5 at $1/$5 standard, $0.50/$2.50 batch, with its cache reads and writes', () => {
    const p = getModelPrice('claude-haiku-4-5');
    expect(p.standard).toMatchObject({ inputUsdPerMTok: 1, cachedInputUsdPerMTok: 0.1, outputUsdPerMTok: 5, cacheWriteUsdPerMTok: 1.25, cacheWrite1hUsdPerMTok: 2 });
    expect(p.batch).toMatchObject({ inputUsdPerMTok: 0.5, cachedInputUsdPerMTok: 0.05, outputUsdPerMTok: 2.5, cacheWriteUsdPerMTok: 0.625, cacheWrite1hUsdPerMTok: 1 });
  });

  it('bills cache writes at their own rates, apart from plain input, reads and output', () => {
    // 1,000 plain + 2,000 read + 3,000 written for 5 min + 4,000 written for 1 h, and 500 out, at Haiku batch prices:
    // 1000×0.5 + 2000×0.05 + 3000×0.625 + 4000×1.0 + 500×2.5 = 500 + 100 + 1875 + 4000 + 1250 = 7,725 micro-dollars.
    const tokens = { inputTokens: 10_000, cachedInputTokens: 2_000, cacheWriteTokens: 3_000, cacheWrite1hTokens: 4_000, outputTokens: 500 };
    expect(estimateCostMicros(tokens, 'claude-haiku-4-5', 'batch')).toBe(7_725);
    expect(actualCostMicros({ inputTokens: 10_000, cachedInputTokens: 2_000, cacheWriteTokens: 3_000, cacheWrite1hTokens: 4_000, outputTokens: 500, reasoningTokens: 0 }, 'claude-haiku-4-5', 'batch')).toBe(7_725);
  });

  it('prices a cache write as plain input where no write price is published (OpenAI)', () => {
    const withWrites = estimateCostMicros({ inputTokens: 10_000, cacheWriteTokens: 4_000, outputTokens: 0 }, 'gpt-4o-mini', 'batch');
    expect(withWrites).toBe(estimateCostMicros({ inputTokens: 10_000, outputTokens: 0 }, 'gpt-4o-mini', 'batch'));
  });

  it('refuses more cached and written tokens than input tokens', () => {
    expect(() => estimateCostMicros({ inputTokens: 10, cachedInputTokens: 6, cacheWriteTokens: 5, outputTokens: 0 }, 'claude-haiku-4-5', 'batch')).toThrow(RangeError);
  });
});

describe('costs in micro-dollars', () => {
  it('matches the price table by hand: GPT-4o mini', () => {
    // Batch: 1,234 input × $0.075/MTok = 92.55 µ$; 567 output × $0.30/MTok = 170.1 µ$; total 262.65 → 263 µ$.
    expect(estimateCostMicros({ inputTokens: 1234, outputTokens: 567 }, 'gpt-4o-mini', 'batch')).toBe(263);
    // Standard: 1,234 × 0.15 = 185.1; 567 × 0.60 = 340.2; total 525.3 → 525 µ$.
    expect(estimateCostMicros({ inputTokens: 1234, outputTokens: 567 }, 'gpt-4o-mini', 'standard')).toBe(525);
  });

  it('matches the price table by hand: gpt-4 and gpt-3.5-turbo', () => {
    // gpt-4 batch: 1,234 × $15 = 18,510 µ$; 567 × $30 = 17,010 µ$; total 35,520 µ$.
    expect(estimateCostMicros({ inputTokens: 1234, outputTokens: 567 }, 'gpt-4', 'batch')).toBe(35_520);
    // gpt-4 standard: 1,234 × $30 = 37,020; 567 × $60 = 34,020; total 71,040 µ$.
    expect(estimateCostMicros({ inputTokens: 1234, outputTokens: 567 }, 'gpt-4-0613', 'standard')).toBe(71_040);
    // gpt-3.5-turbo batch: 1,234 × $0.25 = 308.5; 567 × $0.75 = 425.25; total 733.75 → 734 µ$.
    expect(estimateCostMicros({ inputTokens: 1234, outputTokens: 567 }, 'gpt-3.5-turbo', 'batch')).toBe(734);
    // gpt-3.5-turbo standard: 1,234 × $0.50 = 617; 567 × $1.50 = 850.5; total 1,467.5 → 1,468 µ$ (half up).
    expect(estimateCostMicros({ inputTokens: 1234, outputTokens: 567 }, 'gpt-3.5-turbo-0125', 'standard')).toBe(1468);
  });

  it('bills cached tokens of gpt-4 at its input price (no cached price is published)', () => {
    // 2,000 prompt tokens, 1,024 of them cached, all at $30: 60,000 µ$; 300 output × $60 = 18,000 µ$; 78,000 µ$.
    expect(estimateCostMicros({ inputTokens: 2000, cachedInputTokens: 1024, outputTokens: 300 }, 'gpt-4', 'standard')).toBe(78_000);
    expect(actualCostMicros({ prompt_tokens: 2000, completion_tokens: 300, prompt_tokens_details: { cached_tokens: 1024 } }, 'gpt-4', 'batch')).toBe(39_000);
  });

  it('bills cached input at the cached price: GPT-4.1 standard', () => {
    // 2,000 prompt tokens of which 1,024 cached: 976 × $2.00 = 1,952 µ$; 1,024 × $0.50 = 512 µ$;
    // 300 output × $8.00 = 2,400 µ$; total 4,864 µ$.
    expect(estimateCostMicros({ inputTokens: 2000, cachedInputTokens: 1024, outputTokens: 300 }, 'gpt-4.1', 'standard')).toBe(4864);
  });

  it('takes an OpenAI usage object as returned: GPT-5 mini batch, reasoning tokens billed as output', () => {
    const usage = {
      prompt_tokens: 1500,
      completion_tokens: 800,
      total_tokens: 2300,
      prompt_tokens_details: { cached_tokens: 1152 },
      completion_tokens_details: { reasoning_tokens: 512 },
    };
    // 348 × $0.125 = 43.5; 1,152 × $0.0125 = 14.4; 800 × $1.00 = 800; total 857.9 → 858 µ$.
    expect(actualCostMicros(usage, 'gpt-5-mini', 'batch')).toBe(858);
    expect(actualCostMicros({ inputTokens: 1500, cachedInputTokens: 1152, outputTokens: 800, reasoningTokens: 512 }, 'gpt-5-mini', 'batch')).toBe(858);
  });

  it('rounds once per request, half up', () => {
    // 10 × $0.05 = 0.5 µ$ → 1; 9 × $0.05 = 0.45 µ$ → 0 (gpt-4.1-nano batch input).
    expect(estimateCostMicros({ inputTokens: 10, outputTokens: 0 }, 'gpt-4.1-nano', 'batch')).toBe(1);
    expect(estimateCostMicros({ inputTokens: 9, outputTokens: 0 }, 'gpt-4.1-nano', 'batch')).toBe(0);
    // Sixth-decimal prices stay exact: 1,000,000 × $0.0025 = 2,500 µ$ (gpt-5-nano batch cached input).
    expect(estimateCostMicros({ inputTokens: 1_000_000, cachedInputTokens: 1_000_000, outputTokens: 0 }, 'gpt-5-nano', 'batch')).toBe(2500);
  });

  it('handles a month of traffic without floating-point drift', () => {
    // 10^9 output tokens of gpt-5.5 at $30/MTok = $30,000 = 3 × 10^10 µ$.
    expect(estimateCostMicros({ inputTokens: 0, outputTokens: 1_000_000_000 }, 'gpt-5.5', 'standard')).toBe(30_000_000_000);
  });

  it('rejects impossible token counts', () => {
    expect(() => estimateCostMicros({ inputTokens: -1, outputTokens: 0 }, 'gpt-4o', 'batch')).toThrow(RangeError);
    expect(() => estimateCostMicros({ inputTokens: 1.5, outputTokens: 0 }, 'gpt-4o', 'batch')).toThrow(/whole number/);
    expect(() => estimateCostMicros({ inputTokens: 10, cachedInputTokens: 11, outputTokens: 0 }, 'gpt-4o', 'batch')).toThrow(/cannot exceed/);
    expect(() => actualCostMicros({ prompt_tokens: -5, completion_tokens: 1 }, 'gpt-4o', 'batch')).toThrow();
  });
});

describe('parsePriceTable', () => {
  const valid = `currency: USD
unit: per_million_tokens
models:
  m1:
    aliases: [m1-2025-01-01]
    reasoning: false
    standard: { input: 1, cached_input: 0.5, output: 2, checked: 2025-01-01 }
    batch: { input: 0.5, cached_input: null, output: 1, checked: 2025-01 }
`;

  it('reads a valid file', () => {
    const table = parsePriceTable(valid);
    expect(table.byId.get('m1-2025-01-01')?.model).toBe('m1');
  });

  it('names each bad field of a malformed file', () => {
    expect(() => parsePriceTable(valid.replace('output: 2,', 'output: -2,'), 'test.yml')).toThrow(/Invalid test.yml:\n {2}- models.m1.standard.output/);
    expect(() => parsePriceTable(valid.replace('checked: 2025-01-01', 'checked: yesterday'))).toThrow(/checked: must be a date/);
    expect(() => parsePriceTable(valid.replace('input: 1,', 'input: 0.0000001,'))).toThrow(/at most 6 decimal places/);
    expect(() => parsePriceTable(valid.replace('currency: USD', 'currency: EUR'))).toThrow(/currency/);
    expect(() => parsePriceTable(valid.replace('reasoning: false', 'reasoning: false\n    colour: red'))).toThrow(/colour/);
  });

  it('refuses an alias listed twice', () => {
    expect(() => parsePriceTable(valid.replace('[m1-2025-01-01]', '[m1]'))).toThrow(/"m1" appears twice/);
  });
});

describe('prices on a day', () => {
  // A made-up model whose price fell on 2025-06-10: the file keeps the earlier price with the days it applied.
  const dated = parsePriceTable(`currency: USD
unit: per_million_tokens
models:
  m1:
    aliases: [m1-2024-04-16]
    reasoning: false
    standard: { input: 2, cached_input: 0.5, output: 8, checked: 2025-07-12 }
    batch: { input: 1, cached_input: null, output: 4, checked: 2025-07-12 }
    previous:
      - since: 2024-04-16
        until: 2025-06-10
        standard: { input: 10, cached_input: 2.5, output: 40, checked: 2025-06-01 }
        batch: { input: 5, cached_input: null, output: 20, checked: 2025-06-01 }
`);
  const tokens = { inputTokens: 1000, outputTokens: 1000 };

  it('uses the earlier price on every day it applied, and the current one from its until on', () => {
    expect(modelPriceAt(dated, 'm1', '2024-04-16').standard.inputUsdPerMTok).toBe(10);
    expect(modelPriceAt(dated, 'm1', '2025-06-09').standard.inputUsdPerMTok).toBe(10);
    expect(modelPriceAt(dated, 'm1', '2025-06-10').standard.inputUsdPerMTok).toBe(2);
    expect(modelPriceAt(dated, 'm1', '2026-01-01').standard.inputUsdPerMTok).toBe(2);
    // An alias is priced like its model, on the same days.
    expect(modelPriceAt(dated, 'm1-2024-04-16', '2025-01-01').batch).toMatchObject({ inputUsdPerMTok: 5, outputUsdPerMTok: 20 });
    // By hand: 1,000 × $10 + 1,000 × $40 = 50,000 µ$ before; 1,000 × $2 + 1,000 × $8 = 10,000 µ$ after.
    expect(costAtRates(tokens, modelPriceAt(dated, 'm1', '2025-06-09').standard)).toBe(50_000);
    expect(costAtRates(tokens, modelPriceAt(dated, 'm1', '2025-06-10').standard)).toBe(10_000);
    expect(costAtRates(tokens, modelPriceAt(dated, 'm1', '2025-06-09').batch)).toBe(25_000);
  });

  it('reads a Date as its UTC day, and an ISO timestamp with an offset likewise', () => {
    expect(modelPriceAt(dated, 'm1', new Date('2025-06-09T23:59:59.999Z')).standard.inputUsdPerMTok).toBe(10);
    expect(modelPriceAt(dated, 'm1', new Date('2025-06-10T00:00:00Z')).standard.inputUsdPerMTok).toBe(2);
    // 01:00 in UTC+2 on the 10th is still the 9th in UTC.
    expect(priceDay('2025-06-10T01:00:00+02:00')).toBe('2025-06-09');
    expect(modelPriceAt(dated, 'm1', '2025-06-10T01:00:00+02:00').standard.inputUsdPerMTok).toBe(10);
    expect(() => priceDay('10 June 2025')).toThrow(/a price date must be a Date or YYYY-MM-DD/);
    expect(() => priceDay(new Date('nonsense'))).toThrow(/invalid date/);
  });

  it('prices at today without a day, and at the earliest known price before the first since', () => {
    expect(modelPriceAt(dated, 'm1').standard.inputUsdPerMTok).toBe(2);
    expect(modelPriceAt(dated, 'm1', '2020-01-01').standard.inputUsdPerMTok).toBe(10);
  });

  it('lists every period, oldest first, on the model', () => {
    expect(modelPriceAt(dated, 'm1').periods.map((p) => [p.since, p.until, p.standard.inputUsdPerMTok])).toEqual([
      ['2024-04-16', '2025-06-10', 10],
      ['2025-06-10', null, 2],
    ]);
  });

  it('takes a day in every lookup of the real table; with no earlier prices recorded, any day gets the current one', () => {
    const today = new Date();
    expect(getModelPrice('gpt-4o-mini', '2024-01-01')).toBe(getModelPrice('gpt-4o-mini'));
    expect(getModelPrice('gpt-4o-mini', today)).toBe(getModelPrice('gpt-4o-mini'));
    expect(listModels('2024-01-01').map((m) => m.model)).toEqual(listModels().map((m) => m.model));
    // The same figures as "matches the price table by hand: GPT-4o mini" above.
    expect(estimateCostMicros({ inputTokens: 1234, outputTokens: 567 }, 'gpt-4o-mini', 'batch', '2024-01-01')).toBe(263);
    expect(actualCostMicros({ prompt_tokens: 1234, completion_tokens: 567 }, 'gpt-4o-mini', 'standard', today)).toBe(525);
    for (const m of listModels()) expect([m.model, m.periods]).toEqual([m.model, [{ since: null, until: null, standard: m.standard, batch: m.batch }]]);
  });
});

describe('parsePriceTable: earlier prices', () => {
  const file = (previous: string) => `currency: USD
unit: per_million_tokens
models:
  m1:
    reasoning: false
    standard: { input: 2, cached_input: null, output: 8, checked: 2025-07-12 }
    batch: { input: 1, cached_input: null, output: 4, checked: 2025-07-12 }
    previous:
${previous}`;
  const entry = (since: string, until: string, input = 10) =>
    `      - { since: ${since}, until: ${until}, standard: { input: ${input}, cached_input: null, output: 40, checked: 2025-06-01 }, batch: { input: ${input / 2}, cached_input: null, output: 20, checked: 2025-06-01 } }\n`;

  it('reads entries that follow one another', () => {
    const table = parsePriceTable(file(entry('2023-01-01', '2024-01-01', 20) + entry('2024-01-01', '2025-06-10')));
    expect(modelPriceAt(table, 'm1', '2023-06-01').standard.inputUsdPerMTok).toBe(20);
    expect(modelPriceAt(table, 'm1', '2024-06-01').standard.inputUsdPerMTok).toBe(10);
    expect(modelPriceAt(table, 'm1', '2025-06-10').standard.inputUsdPerMTok).toBe(2);
  });

  it('refuses overlapping entries, saying which days', () => {
    expect(() => parsePriceTable(file(entry('2023-01-01', '2024-03-01') + entry('2024-01-01', '2025-06-10')), 'test.yml')).toThrow(
      'Invalid test.yml:\n  - models.m1.previous.1.since: overlaps the entry above it: 2024-01-01 is before its until (2024-03-01), so two prices would apply on the same day',
    );
  });

  it('refuses entries out of order', () => {
    expect(() => parsePriceTable(file(entry('2024-01-01', '2025-06-10') + entry('2023-01-01', '2024-01-01')))).toThrow(
      /models\.m1\.previous\.1\.since: is out of order: 2023-01-01 is before the entry above it \(since 2024-01-01\); list earlier prices oldest first/,
    );
  });

  it('refuses a gap between entries, an entry that ends before it starts, and a day that is not a date', () => {
    expect(() => parsePriceTable(file(entry('2023-01-01', '2023-06-01') + entry('2024-01-01', '2025-06-10')))).toThrow(
      /previous\.1\.since: leaves a gap after the entry above it: it ends the day before 2023-06-01, so since must be 2023-06-01/,
    );
    expect(() => parsePriceTable(file(entry('2025-06-10', '2025-06-10')))).toThrow(/previous\.0\.until: must be after since \(2025-06-10\)/);
    expect(() => parsePriceTable(file(entry('2025-02-30', '2025-06-10')))).toThrow(/previous\.0\.since: is not a calendar date/);
    expect(() => parsePriceTable(file(entry('2025-02', '2025-06-10')))).toThrow(/previous\.0\.since: must be a date: YYYY-MM-DD/);
    expect(() => parsePriceTable(file(entry('2024-01-01', '2025-06-10').replace('until:', 'till:')))).toThrow(/previous\.0: Unrecognized key: "till"/);
  });
});
