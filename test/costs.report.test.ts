import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { ROOT } from '../src/paths.js';
import { anthropicPrices, parseAnthropicPrices, readAnthropicPrices, ANTHROPIC_PRICES_FILE } from '../src/providers/anthropic-prices.js';
import { listModels } from '../src/providers/pricing.js';

/**
 * The cost report (issue 16, item 8): the Anthropic price file.
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
