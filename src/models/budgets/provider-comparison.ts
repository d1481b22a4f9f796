import { anthropicPriceAt, anthropicPrices, type AnthropicPrices } from '../../providers/anthropic-prices.js';
import { costAtRates, getModelPrice, type ModelPrice, type PriceDate } from '../../providers/pricing.js';

/**
 * What a month's charged requests would have cost with OpenAI's Batch API, OpenAI in real time (standard prices),
 * Anthropic's Message Batches and Anthropic in real time, for the same token counts; and what the ledger actually
 * charged for them. Every request is priced at the prices in force on the day it was charged (UTC), rounded once
 * per request half up (pricing.ts' costAtRates), so OpenAI batch equals the ledger for batch results priced then.
 *
 * A charge takes part only when all four prices are known for it: its tokens are recorded (a batch result's on
 * its assessment, a real-time call's on its ledger row), its model has an OpenAI price, and that model has an
 * Anthropic stand-in (data/prices/anthropic.yml). The others are counted and left out, so the four figures and
 * the actual charge always cover the same requests.
 */

/** The seed's KPI: at least this share saved against OpenAI real-time prices. */
export const KPI_SAVING_PERCENT = 60;

/** Requests charged alike: one model, one day, the same token counts (null tokens: not recorded). */
export interface ChargeVolume {
  model: string | null;
  /** The UTC day of the charge, 'YYYY-MM-DD'. */
  day: string;
  inputTokens: number | null;
  cachedInputTokens: number | null;
  outputTokens: number | null;
  /** How many requests, and what the ledger charged for them together. */
  requests: number;
  chargedMicros: number;
}

export interface ProviderCosts {
  openaiBatchMicros: number;
  openaiRealtimeMicros: number;
  anthropicBatchMicros: number;
  anthropicRealtimeMicros: number;
}

export interface ProviderComparison extends ProviderCosts {
  /** Requests compared, and what the ledger charged for them. */
  comparedRequests: number;
  chargedMicros: number;
  /** OpenAI real-time less what was charged (negative when the month cost more than real time would have). */
  savedMicros: number;
  /** Requests left out (no tokens recorded, or a model without a price or stand-in), and their charges. */
  leftOutRequests: number;
  leftOutMicros: number;
  /** The KPI: the saving is at least KPI_SAVING_PERCENT of the OpenAI real-time cost. Null when nothing was compared. */
  kpiAchieved: boolean | null;
}

/** The prices a comparison uses (default: the shipped price files); tests pass their own. */
export interface ComparisonPrices {
  openai(model: string, day: PriceDate): ModelPrice;
  anthropic: AnthropicPrices;
}

export function shippedPrices(): ComparisonPrices {
  return { openai: (model, day) => getModelPrice(model, day, 'openai'), anthropic: anthropicPrices() };
}

/** The four prices of one request of a volume, or null when it cannot be priced everywhere. */
export function priceRequest(v: ChargeVolume, prices: ComparisonPrices): ProviderCosts | null {
  if (v.model == null || v.inputTokens == null || v.outputTokens == null) return null;
  let openai: ModelPrice;
  try {
    openai = prices.openai(v.model, v.day);
  } catch {
    // Not in the OpenAI price list (an old or unknown model id): nothing to compare with.
    return null;
  }
  // Stand-ins name canonical ids; a charge may carry an alias (a dated snapshot).
  const standIn = prices.anthropic.byOpenAiModel.get(openai.model);
  if (!standIn) return null;
  const anthropic = anthropicPriceAt(standIn.anthropicModel, v.day, prices.anthropic);
  const tokens = { inputTokens: v.inputTokens, cachedInputTokens: Math.min(v.cachedInputTokens ?? 0, v.inputTokens), outputTokens: v.outputTokens };
  return {
    openaiBatchMicros: costAtRates(tokens, openai.batch),
    openaiRealtimeMicros: costAtRates(tokens, openai.standard),
    anthropicBatchMicros: costAtRates(tokens, anthropic.batch),
    anthropicRealtimeMicros: costAtRates(tokens, anthropic.standard),
  };
}

/** Whether a saving meets the KPI, in whole micro-dollars (no rounding of a share near the line). */
export function kpiAchieved(savedMicros: number, realtimeMicros: number): boolean | null {
  if (realtimeMicros <= 0) return null;
  return savedMicros * 100 >= realtimeMicros * KPI_SAVING_PERCENT;
}

/** The comparison over a set of volumes (a course's, or the platform's). */
export function compareProviders(volumes: readonly ChargeVolume[], prices: ComparisonPrices = shippedPrices()): ProviderComparison {
  const sum = { openaiBatchMicros: 0, openaiRealtimeMicros: 0, anthropicBatchMicros: 0, anthropicRealtimeMicros: 0 };
  let comparedRequests = 0;
  let chargedMicros = 0;
  let leftOutRequests = 0;
  let leftOutMicros = 0;
  for (const v of volumes) {
    const one = priceRequest(v, prices);
    if (!one) {
      leftOutRequests += v.requests;
      leftOutMicros += v.chargedMicros;
      continue;
    }
    comparedRequests += v.requests;
    chargedMicros += v.chargedMicros;
    sum.openaiBatchMicros += one.openaiBatchMicros * v.requests;
    sum.openaiRealtimeMicros += one.openaiRealtimeMicros * v.requests;
    sum.anthropicBatchMicros += one.anthropicBatchMicros * v.requests;
    sum.anthropicRealtimeMicros += one.anthropicRealtimeMicros * v.requests;
  }
  const savedMicros = sum.openaiRealtimeMicros - chargedMicros;
  return { ...sum, comparedRequests, chargedMicros, savedMicros, leftOutRequests, leftOutMicros, kpiAchieved: comparedRequests ? kpiAchieved(savedMicros, sum.openaiRealtimeMicros) : null };
}
