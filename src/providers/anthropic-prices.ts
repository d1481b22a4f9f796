import { readFileSync } from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { z } from 'zod';
import { ROOT } from '../paths.js';
import { modelPriceAt, parsePriceTable, type ModelPrice, type PriceDate, type PriceTable } from './price-file.js';

/**
 * Anthropic's prices (data/prices/anthropic.yml): what Anthropic batches and real-time calls are charged at
 * (pricing.ts looks a Claude model up here), and which Anthropic model stands in for which OpenAI model, for
 * the cost report's provider comparison. The prices have the OpenAI price file's shape and go through its loader
 * (price-file.ts: rates, dated periods, aliases all checked the same way); the stand-ins are checked here: each
 * names a priced Anthropic model, and no OpenAI model is named twice.
 */

export const ANTHROPIC_PRICES_FILE = path.join(ROOT, 'data', 'prices', 'anthropic.yml');

const standInsSchema = z
  .array(
    z.strictObject({
      tier: z.string().min(1),
      anthropic: z.string().min(1),
      openai: z.array(z.string().min(1)).min(1),
    }),
  )
  .min(1);

/** The file: the price file's fields, plus `stand_ins` (the rest is handed to the price file's own schema). */
const fileSchema = z.looseObject({ stand_ins: standInsSchema });

export interface StandIn {
  /** The class of model, in words ("Small and fast"). */
  tier: string;
  anthropicModel: string;
  /** The OpenAI model ids (as data/prices/openai.yml names them) this Anthropic model is compared with. */
  openaiModels: string[];
}

export interface AnthropicPrices {
  table: PriceTable;
  standIns: StandIn[];
  /** OpenAI model id → its stand-in. */
  byOpenAiModel: Map<string, StandIn>;
}

/** Parses the text of the Anthropic price file, or throws an Error naming each bad field. */
export function parseAnthropicPrices(yamlText: string, source = 'Anthropic price file'): AnthropicPrices {
  const parsed = fileSchema.safeParse(YAML.parse(yamlText));
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new Error(`Invalid ${source}:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
  const { stand_ins: raw, ...prices } = parsed.data;
  const table = parsePriceTable(YAML.stringify(prices), source);
  const problems: string[] = [];
  const byOpenAiModel = new Map<string, StandIn>();
  const standIns = raw.map((s, i) => {
    const standIn: StandIn = { tier: s.tier, anthropicModel: s.anthropic, openaiModels: s.openai };
    if (!table.byId.has(s.anthropic)) problems.push(`stand_ins.${i}.anthropic: "${s.anthropic}" has no price in models`);
    for (const model of s.openai) {
      if (byOpenAiModel.has(model)) problems.push(`stand_ins.${i}.openai: "${model}" already has a stand-in (${byOpenAiModel.get(model)!.anthropicModel})`);
      else byOpenAiModel.set(model, standIn);
    }
    return standIn;
  });
  if (problems.length) throw new Error(`Invalid ${source}:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  return { table, standIns, byOpenAiModel };
}

/** Reads and parses an Anthropic price file (default: the shipped one). */
export function readAnthropicPrices(file: string = ANTHROPIC_PRICES_FILE): AnthropicPrices {
  return parseAnthropicPrices(readFileSync(file, 'utf8'), file);
}

let loaded: AnthropicPrices | undefined;

/** The shipped Anthropic prices, read and validated on first use, then kept. */
export function anthropicPrices(): AnthropicPrices {
  loaded ??= readAnthropicPrices();
  return loaded;
}

/** An Anthropic model's prices in force on a day, from a parsed file (default: the shipped one). */
export function anthropicPriceAt(model: string, at: PriceDate, prices: AnthropicPrices = anthropicPrices()): ModelPrice {
  return modelPriceAt(prices.table, model, at);
}
