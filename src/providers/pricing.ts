import { readFileSync } from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { z } from 'zod';
import { ROOT } from '../paths.js';

/**
 * Model prices from the dated data file data/prices/openai.yml, and costs in integer micro-dollars.
 *
 * Arithmetic: a price in USD per million tokens is also micro-dollars per token, so
 * tokens × (USD/MTok) = micro-dollars. Prices are held as integer micro-USD per MTok (0.075 → 75,000), each
 * request's cost is summed exactly as an integer (BigInt, so nothing is lost to floating point), and rounded
 * **once per request, half up** to whole micro-dollars. Summing rounded per-request costs is what the ledger
 * does, so a batch total equals the sum of its lines.
 */

export type PriceMode = 'batch' | 'standard';

export const PRICES_FILE = path.join(ROOT, 'data', 'prices', 'openai.yml');

const usdPerMTok = z
  .number()
  .min(0)
  .max(10_000)
  // Held as integer micro-USD per MTok: more than 6 decimals would be silently rounded, so refuse it.
  .refine((n) => Math.abs(n * 1e6 - Math.round(n * 1e6)) < 1e-6, 'at most 6 decimal places');
const checkedDate = z.string().regex(/^\d{4}-\d{2}(-\d{2})?$/, 'must be a date: YYYY-MM-DD (or YYYY-MM)');

const ratesSchema = z.strictObject({
  input: usdPerMTok,
  cached_input: usdPerMTok.nullable(),
  output: usdPerMTok,
  checked: checkedDate,
});

const modelSchema = z.strictObject({
  aliases: z.array(z.string().min(1)).default([]),
  reasoning: z.boolean(),
  context_window: z.number().int().positive().optional(),
  standard: ratesSchema,
  batch: ratesSchema,
});

const priceFileSchema = z.strictObject({
  currency: z.literal('USD'),
  unit: z.literal('per_million_tokens'),
  models: z.record(z.string().min(1), modelSchema),
});

export interface PriceRates {
  inputUsdPerMTok: number;
  /** Equal to the input price when the source publishes no cached price for this mode. */
  cachedInputUsdPerMTok: number;
  outputUsdPerMTok: number;
  /** Whether the source publishes a separate cached-input price for this mode. */
  cachedInputPublished: boolean;
  checked: string;
}

export interface ModelPrice {
  /** The canonical model id (the key in the price file). */
  model: string;
  aliases: string[];
  reasoning: boolean;
  contextWindow: number | null;
  standard: PriceRates;
  batch: PriceRates;
}

export class UnknownModelError extends Error {
  constructor(readonly model: string, known: string[]) {
    super(`No price is known for model "${model}". Known models: ${known.join(', ')}. Add it to data/prices/openai.yml.`);
    this.name = 'UnknownModelError';
  }
}

interface PriceTable {
  models: ModelPrice[];
  byId: Map<string, ModelPrice>;
}

function rates(r: z.infer<typeof ratesSchema>): PriceRates {
  return {
    inputUsdPerMTok: r.input,
    cachedInputUsdPerMTok: r.cached_input ?? r.input,
    outputUsdPerMTok: r.output,
    cachedInputPublished: r.cached_input !== null,
    checked: r.checked,
  };
}

/** Parses the text of a price file, or throws an Error naming each bad field. */
export function parsePriceTable(yamlText: string, source = 'price file'): PriceTable {
  const parsed = priceFileSchema.safeParse(YAML.parse(yamlText));
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new Error(`Invalid ${source}:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
  const models: ModelPrice[] = [];
  const byId = new Map<string, ModelPrice>();
  for (const [id, m] of Object.entries(parsed.data.models)) {
    const price: ModelPrice = {
      model: id,
      aliases: m.aliases,
      reasoning: m.reasoning,
      contextWindow: m.context_window ?? null,
      standard: rates(m.standard),
      batch: rates(m.batch),
    };
    models.push(price);
    for (const name of [id, ...m.aliases]) {
      if (byId.has(name)) throw new Error(`Invalid ${source}: model id or alias "${name}" appears twice`);
      byId.set(name, price);
    }
  }
  return { models, byId };
}

let table: PriceTable | undefined;

/** The price table, read and validated on first use, then kept. */
function priceTable(): PriceTable {
  table ??= parsePriceTable(readFileSync(PRICES_FILE, 'utf8'), PRICES_FILE);
  return table;
}

export function listModels(): ModelPrice[] {
  return priceTable().models;
}

export function isKnownModel(model: string): boolean {
  return priceTable().byId.has(model);
}

/** The price entry for a model id or alias; throws UnknownModelError (naming the known models) otherwise. */
export function getModelPrice(model: string): ModelPrice {
  const price = priceTable().byId.get(model);
  if (!price) throw new UnknownModelError(model, priceTable().models.map((m) => m.model));
  return price;
}

export interface TokenCounts {
  /** All prompt tokens, cached ones included (as OpenAI's `prompt_tokens`). */
  inputTokens: number;
  outputTokens: number;
  /** The part of inputTokens served from the prompt cache. */
  cachedInputTokens?: number;
}

const MICRO_PER_USD_PER_MTOK = 1_000_000n;

function toMicroUsdPerMTok(usdPerMTokValue: number): bigint {
  return BigInt(Math.round(usdPerMTokValue * 1_000_000));
}

function checkCount(name: string, n: number): bigint {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`${name} must be a whole number of tokens ≥ 0 (got ${n})`);
  return BigInt(n);
}

/**
 * Cost of one request in integer micro-dollars: uncached input, cached input and output at the model's rates for
 * the mode, rounded once, half up. Throws UnknownModelError for a model with no price.
 */
export function estimateCostMicros(tokens: TokenCounts, model: string, mode: PriceMode): number {
  const r = getModelPrice(model)[mode];
  const input = checkCount('inputTokens', tokens.inputTokens);
  const cached = checkCount('cachedInputTokens', tokens.cachedInputTokens ?? 0);
  const output = checkCount('outputTokens', tokens.outputTokens);
  if (cached > input) throw new RangeError(`cachedInputTokens (${cached}) cannot exceed inputTokens (${input})`);
  // micro-USD per MTok × tokens = micro-dollars × 10^6.
  const scaled =
    (input - cached) * toMicroUsdPerMTok(r.inputUsdPerMTok) +
    cached * toMicroUsdPerMTok(r.cachedInputUsdPerMTok) +
    output * toMicroUsdPerMTok(r.outputUsdPerMTok);
  return Number((scaled + MICRO_PER_USD_PER_MTOK / 2n) / MICRO_PER_USD_PER_MTOK);
}

/** OpenAI's chat completion `usage` object, as far as billing needs it. */
export const openAIUsageSchema = z.object({
  prompt_tokens: z.number().int().min(0),
  completion_tokens: z.number().int().min(0),
  total_tokens: z.number().int().min(0).optional(),
  prompt_tokens_details: z.object({ cached_tokens: z.number().int().min(0).optional() }).nullish(),
  completion_tokens_details: z.object({ reasoning_tokens: z.number().int().min(0).optional() }).nullish(),
});
export type OpenAIUsage = z.input<typeof openAIUsageSchema>;

/** Normalized token usage, as every provider's result lines carry it. */
export interface TokenUsage {
  inputTokens: number;
  cachedInputTokens: number;
  /** Billed output tokens, reasoning tokens included. */
  outputTokens: number;
  reasoningTokens: number;
}

/** OpenAI usage → TokenUsage. Reasoning tokens are already inside completion_tokens (and billed as output). */
export function fromOpenAIUsage(usage: OpenAIUsage): TokenUsage {
  const u = openAIUsageSchema.parse(usage);
  return {
    inputTokens: u.prompt_tokens,
    cachedInputTokens: u.prompt_tokens_details?.cached_tokens ?? 0,
    outputTokens: u.completion_tokens,
    reasoningTokens: u.completion_tokens_details?.reasoning_tokens ?? 0,
  };
}

/**
 * What a finished request cost, from the usage the provider reported: OpenAI's usage object as returned, or the
 * normalized TokenUsage our result lines carry. Same rounding as estimateCostMicros.
 */
export function actualCostMicros(usage: OpenAIUsage | TokenUsage, model: string, mode: PriceMode): number {
  const u = 'prompt_tokens' in usage ? fromOpenAIUsage(usage) : usage;
  return estimateCostMicros(
    { inputTokens: u.inputTokens, cachedInputTokens: u.cachedInputTokens, outputTokens: u.outputTokens },
    model,
    mode,
  );
}
