import { anthropicPrices, type AnthropicPrices } from '../../providers/anthropic-prices.js';
import { isKnownModel, providerOfModel } from '../../providers/index.js';

/**
 * Which model a failover batch uses at the next provider. A platform may name one per provider (the Providers
 * page); otherwise the model of the same tier, from the stand-ins of data/prices/anthropic.yml (the table the cost
 * report compares the providers with): gpt-4o-mini ↔ claude-haiku-4-5, gpt-4o ↔ claude-sonnet-4-6, and so on. From
 * Anthropic to OpenAI the tier's first OpenAI model is taken (the stand-in table lists it first).
 */
export function failoverModelFor(fromModel: string, toProvider: string, chosen: Record<string, string>, prices: AnthropicPrices = anthropicPrices()): string | null {
  const own = chosen[toProvider];
  if (own && isKnownModel(own, toProvider as 'openai' | 'anthropic')) return own;
  const from = providerOfModel(fromModel);
  if (from === toProvider) return fromModel;
  if (toProvider === 'anthropic') return (prices.byOpenAiModel.get(fromModel) ?? prices.standIns[0]!).anthropicModel;
  if (toProvider === 'openai') return (prices.standIns.find((s) => s.anthropicModel === fromModel) ?? prices.standIns[0]!).openaiModels[0] ?? null;
  return null;
}

/** The tier pairs, for the Providers page (what "same tier" means there). */
export function tierPairs(prices: AnthropicPrices = anthropicPrices()): Array<{ tier: string; anthropic: string; openai: string }> {
  return prices.standIns.map((s) => ({ tier: s.tier, anthropic: s.anthropicModel, openai: s.openaiModels[0] ?? '' }));
}
