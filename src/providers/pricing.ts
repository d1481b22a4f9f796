import { z } from 'zod';
import { anthropicPrices } from './anthropic-prices.js';
import { modelPriceAt, priceDay, priceOn, readPriceTable, UnknownModelError, type ModelPrice, type PriceDate, type PriceRates, type PriceTable } from './price-file.js';

export {
  modelPriceAt,
  parsePriceTable,
  priceDay,
  PRICES_FILE,
  UnknownModelError,
  type ModelPrice,
  type PriceDate,
  type PricePeriod,
  type PriceRates,
  type PriceTable,
} from './price-file.js';

/**
 * Model prices on a day, from the dated data files of each provider — data/prices/openai.yml and
 * data/prices/anthropic.yml (read and checked by price-file.ts) — and costs in integer micro-dollars. A model id
 * names its provider (no id is in two files), so a lookup by model needs no provider; `provider` narrows it.
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

/** The providers with a price file, and so with models a prompt can name. */
export const PRICED_PROVIDERS = ['openai', 'anthropic'] as const;
export type PricedProvider = (typeof PRICED_PROVIDERS)[number];

let openaiTable: PriceTable | undefined;

/** A provider's price table, read and validated on first use, then kept. */
function priceTable(provider: PricedProvider): PriceTable {
  if (provider === 'anthropic') return anthropicPrices().table;
  openaiTable ??= readPriceTable();
  return openaiTable;
}

function providersOf(provider: PricedProvider | undefined): readonly PricedProvider[] {
  return provider ? [provider] : PRICED_PROVIDERS;
}

/** Every priced model (of one provider, or of all) with the prices in force on a day (default: today). */
export function listModels(at: PriceDate = new Date(), provider?: PricedProvider): ModelPrice[] {
  const day = priceDay(at);
  return providersOf(provider).flatMap((p) => priceTable(p).models.map((entry) => priceOn(entry, day)));
}

export function isKnownModel(model: string, provider?: PricedProvider): boolean {
  return providerOfModel(model) !== null && (provider === undefined || providerOfModel(model) === provider);
}

/** The provider whose price file names a model id or alias, or null. */
export function providerOfModel(model: string): PricedProvider | null {
  return PRICED_PROVIDERS.find((p) => priceTable(p).byId.has(model)) ?? null;
}

/**
 * The price entry for a model id or alias (of one provider, or of any), with the prices in force on a day
 * (default: today); throws UnknownModelError (naming the known models) otherwise.
 */
export function getModelPrice(model: string, at: PriceDate = new Date(), provider?: PricedProvider): ModelPrice {
  const owner = providerOfModel(model);
  if (owner === null || (provider !== undefined && owner !== provider)) {
    throw new UnknownModelError(model, listModels(at, provider).map((m) => m.model));
  }
  return modelPriceAt(priceTable(owner), model, at);
}

export interface TokenCounts {
  /** All prompt tokens, cached ones included (as OpenAI's `prompt_tokens`). */
  inputTokens: number;
  outputTokens: number;
  /** The part of inputTokens served from the prompt cache. */
  cachedInputTokens?: number;
  /** The part of inputTokens written to a 5-minute / 1-hour prompt-cache entry (Anthropic bills them apart). */
  cacheWriteTokens?: number;
  cacheWrite1hTokens?: number;
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
  const written5m = checkCount('cacheWriteTokens', tokens.cacheWriteTokens ?? 0);
  const written1h = checkCount('cacheWrite1hTokens', tokens.cacheWrite1hTokens ?? 0);
  if (cached + written5m + written1h > input) {
    throw new RangeError(`cached (${cached}) and cache-write (${written5m + written1h}) tokens cannot exceed inputTokens (${input})`);
  }
  // micro-USD per MTok × tokens = micro-dollars × 10^6. A cache write without its own price is plain input.
  const scaled =
    (input - cached - written5m - written1h) * toMicroUsdPerMTok(r.inputUsdPerMTok) +
    cached * toMicroUsdPerMTok(r.cachedInputUsdPerMTok) +
    written5m * toMicroUsdPerMTok(r.cacheWriteUsdPerMTok ?? r.inputUsdPerMTok) +
    written1h * toMicroUsdPerMTok(r.cacheWrite1hUsdPerMTok ?? r.inputUsdPerMTok) +
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
  /** Every input token, cached, cache-written and uncached alike. */
  inputTokens: number;
  cachedInputTokens: number;
  /** Billed output tokens, reasoning tokens included. */
  outputTokens: number;
  reasoningTokens: number;
  /** Input tokens written to a 5-minute / 1-hour prompt-cache entry (Anthropic); absent where nothing is written. */
  cacheWriteTokens?: number;
  cacheWrite1hTokens?: number;
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
    {
      inputTokens: u.inputTokens,
      cachedInputTokens: u.cachedInputTokens,
      outputTokens: u.outputTokens,
      cacheWriteTokens: u.cacheWriteTokens ?? 0,
      cacheWrite1hTokens: u.cacheWrite1hTokens ?? 0,
    },
    model,
    mode,
    at,
  );
}
