import { z } from 'zod';
import { readPriceTable, type ModelEntry, type ModelPrice, type PriceRates, type PriceTable } from './price-file.js';

export { parsePriceTable, PRICES_FILE, type ModelPrice, type PricePeriod, type PriceRates, type PriceTable } from './price-file.js';

/**
 * Model prices on a day, from the dated data file data/prices/openai.yml (read and checked by price-file.ts), and
 * costs in integer micro-dollars.
 *
 * Arithmetic: a price in USD per million tokens is also micro-dollars per token, so
 * tokens × (USD/MTok) = micro-dollars. Prices are held as integer micro-USD per MTok (0.075 → 75,000), each
 * request's cost is summed exactly as an integer (BigInt, so nothing is lost to floating point), and rounded
 * **once per request, half up** to whole micro-dollars. Summing rounded per-request costs is what the ledger
 * does, so a batch total equals the sum of its lines.
 *
 * Dates: every lookup takes the day to price at (a UTC calendar day; default: today), and without one gets the
 * price in force today, so a price change never re-prices past work priced on its own day.
 */

export type PriceMode = 'batch' | 'standard';

export class UnknownModelError extends Error {
  constructor(readonly model: string, known: string[]) {
    super(`No price is known for model "${model}". Known models: ${known.join(', ')}. Add it to data/prices/openai.yml.`);
    this.name = 'UnknownModelError';
  }
}

/** A day to price at: a Date (its UTC day) or a 'YYYY-MM-DD' string (an ISO timestamp is read as its UTC day). */
export type PriceDate = Date | string;

/** The UTC calendar day of a PriceDate, as 'YYYY-MM-DD'. */
export function priceDay(at: PriceDate): string {
  if (at instanceof Date) {
    if (Number.isNaN(at.getTime())) throw new RangeError('cannot price at an invalid date');
    return at.toISOString().slice(0, 10);
  }
  if (/^\d{4}-\d{2}-\d{2}$/.test(at)) return at;
  if (/^\d{4}-\d{2}-\d{2}T/.test(at)) return priceDay(new Date(at));
  throw new RangeError(`a price date must be a Date or YYYY-MM-DD (got "${at}")`);
}

/**
 * The entry's prices in force on a day. Before the first recorded `since` there is nothing older to go by, so
 * the earliest recorded price applies.
 */
function priceOn(entry: ModelEntry, day: string): ModelPrice {
  const i = entry.byPeriod[0]!.periods.findIndex((p) => (p.since === null || p.since <= day) && (p.until === null || day < p.until));
  return entry.byPeriod[Math.max(0, i)]!;
}

/** A model's prices in force on a day (default: today) in a parsed table; throws UnknownModelError. */
export function modelPriceAt(table: PriceTable, model: string, at: PriceDate = new Date()): ModelPrice {
  const entry = table.byId.get(model);
  if (!entry) throw new UnknownModelError(model, table.models.map((m) => m.model));
  return priceOn(entry, priceDay(at));
}

let table: PriceTable | undefined;

/** The price table, read and validated on first use, then kept. */
function priceTable(): PriceTable {
  table ??= readPriceTable();
  return table;
}

/** Every model of the price file with the prices in force on a day (default: today). */
export function listModels(at: PriceDate = new Date()): ModelPrice[] {
  const day = priceDay(at);
  return priceTable().models.map((entry) => priceOn(entry, day));
}

export function isKnownModel(model: string): boolean {
  return priceTable().byId.has(model);
}

/**
 * The price entry for a model id or alias, with the prices in force on a day (default: today); throws
 * UnknownModelError (naming the known models) otherwise.
 */
export function getModelPrice(model: string, at: PriceDate = new Date()): ModelPrice {
  return modelPriceAt(priceTable(), model, at);
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

/** Cost of one request at the given rates in integer micro-dollars, rounded once, half up. */
export function costAtRates(tokens: TokenCounts, r: PriceRates): number {
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

/**
 * Cost of one request in integer micro-dollars: uncached input, cached input and output at the model's rates for
 * the mode on a day (default: today), rounded once, half up. Throws UnknownModelError for a model with no price.
 */
export function estimateCostMicros(tokens: TokenCounts, model: string, mode: PriceMode, at?: PriceDate): number {
  return costAtRates(tokens, getModelPrice(model, at)[mode]);
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
 * normalized TokenUsage our result lines carry, at the prices of a day (default: today; pass the day the work
 * ran when pricing it later). Same rounding as estimateCostMicros.
 */
export function actualCostMicros(usage: OpenAIUsage | TokenUsage, model: string, mode: PriceMode, at?: PriceDate): number {
  const u = 'prompt_tokens' in usage ? fromOpenAIUsage(usage) : usage;
  return estimateCostMicros(
    { inputTokens: u.inputTokens, cachedInputTokens: u.cachedInputTokens, outputTokens: u.outputTokens },
    model,
    mode,
    at,
  );
}
