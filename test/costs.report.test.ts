import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { ROOT } from '../src/paths.js';
import { anthropicPrices, parseAnthropicPrices, readAnthropicPrices, ANTHROPIC_PRICES_FILE } from '../src/providers/anthropic-prices.js';
import { listModels } from '../src/providers/pricing.js';
import { compareProviders, kpiAchieved, type ChargeVolume } from '../src/models/budgets/provider-comparison.js';
import { valueOfMinutes } from '../src/models/budgets/roi.service.js';

/**
 * The cost report (issue 16, item 8): the Anthropic price file, the provider comparison and ROI arithmetic.
 * Every expected figure is computed by hand in the comments beside it.
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
    }
  });

  it('names a stand-in for every OpenAI model of the price list, and the mapping the report documents', () => {
    const { byOpenAiModel } = anthropicPrices();
    expect(listModels().map((m) => m.model).filter((m) => !byOpenAiModel.has(m))).toEqual([]);
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
    ['a price that is not a number', base.replace('output: 25.00, checked: 2026-07-29', 'output: lots, checked: 2026-07-29'), /models\.claude-opus-4-7\.standard\.output/],
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
    expect(kpiAchieved(1_439, 2_400)).toBe(false); // 59.96 %
    expect(kpiAchieved(0, 0)).toBeNull();
    expect(compareProviders([]).kpiAchieved).toBeNull();
  });

  it('values minutes at the hourly rate, half up, without losing precision on large months', () => {
    expect(valueOfMinutes(34, 45_000_000)).toBe(25_500_000);
    expect(valueOfMinutes(1, 1_000_001)).toBe(16_667); // 16,666.68 µ$
    // 1,000,001 min × $9,999.999999 an hour: the product (about 10^16 µ$·min) is past 2^53; ÷ 60 it is not.
    expect(valueOfMinutes(1_000_001, 9_999_999_999)).toBe(166_666_833_316_667);
  });
});
