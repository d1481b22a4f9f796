import type { Config } from '../config.js';
import type { Logger } from '../log.js';
import { AnthropicBatchProvider } from './anthropic/anthropic-provider.js';
import { ProviderError } from './errors.js';
import { OpenAIBatchProvider, type ProviderMetrics } from './openai/openai-provider.js';
import type { PricedProvider } from './pricing.js';
import type { BatchProvider } from './provider.js';
import type { RetryPolicy } from './retry.js';

export * from './provider.js';
export { customIdFor, parseCustomId, realtimeCustomIdFor, type ParsedCustomId } from './custom-id.js';
export { ProviderError, isRetryable, type ProviderErrorCode } from './errors.js';
export { describeProviderMode, type ProviderMode } from './mode.js';
export {
  PRICED_PROVIDERS,
  providerOfModel,
  type PricedProvider,
  actualCostMicros,
  estimateCostMicros,
  fromOpenAIUsage,
  getModelPrice,
  isKnownModel,
  listModels,
  UnknownModelError,
  type ModelPrice,
  type OpenAIUsage,
  type PriceDate,
  type PriceMode,
  type PricePeriod,
  type TokenCounts,
  type TokenUsage,
} from './pricing.js';
export { countChatTokens, countRequestTokens, countSchemaTokens, countTextTokens, estimateOutputTokens, encodingForModel } from './tokens.js';
export { estimateRequest, type OutputHints, type RequestEstimate } from './estimate.js';
export { DEFAULT_RETRY_POLICY, type RetryPolicy } from './retry.js';
export { OpenAIBatchProvider, LOCAL_BATCH_ID_KEY, OPENAI_CAPABILITIES } from './openai/openai-provider.js';
export { AnthropicBatchProvider, ANTHROPIC_CAPABILITIES } from './anthropic/anthropic-provider.js';

type ProviderOptions = { logger?: Logger; retry?: Partial<RetryPolicy>; metrics?: ProviderMetrics };

/**
 * The provider the app uses: OpenAI at config.openai.baseUrl — the real API when OPENAI_API_KEY is set, else the
 * local emulator (demo mode), which accepts any key.
 */
export function createProvider(config: Pick<Config, 'openai'>, options: ProviderOptions = {}): BatchProvider {
  return new OpenAIBatchProvider({
    apiKey: config.openai.apiKey ?? 'demo-mode-emulator-key',
    baseURL: config.openai.baseUrl,
    logger: options.logger,
    retry: options.retry,
    metrics: options.metrics,
  });
}

/** The batch providers of a process, by name: a batch goes to its own provider, a prompt's test to the prompt's. */
export interface Providers {
  /** The providers this installation can use (configured, or simulated in demo mode). */
  readonly names: readonly PricedProvider[];
  has(name: string): boolean;
  /** The provider of that name; throws a permanent ProviderError for one that is not configured. */
  get(name: string): BatchProvider;
}

const LABELS: Record<PricedProvider, string> = { openai: 'OpenAI', anthropic: 'Anthropic' };

/** A registry of the given providers, by their names. */
export function providerSet(list: readonly BatchProvider[]): Providers {
  const byName = new Map(list.map((p) => [p.name, p]));
  return {
    names: list.map((p) => p.name as PricedProvider),
    has: (name) => byName.has(name),
    get(name) {
      const provider = byName.get(name);
      if (provider) return provider;
      const label = LABELS[name as PricedProvider] ?? name;
      const hint = name === 'anthropic' ? ' Set ANTHROPIC_API_KEY (without an OpenAI key, the demo simulates Anthropic too).' : '';
      throw new ProviderError(`${label} is not configured in this installation.${hint}`, { code: 'invalid_request', retryable: false });
    },
  };
}

/**
 * Every provider the configuration allows: OpenAI always (the real API or its emulator), Anthropic with
 * ANTHROPIC_API_KEY, or on the emulator when OpenAI is simulated too (config.anthropic.available).
 */
export function createProviders(config: Pick<Config, 'openai' | 'anthropic'>, options: ProviderOptions = {}): Providers {
  const list: BatchProvider[] = [createProvider(config, options)];
  if (config.anthropic.available) {
    list.push(
      new AnthropicBatchProvider({
        apiKey: config.anthropic.apiKey ?? 'demo-mode-emulator-key',
        baseURL: config.anthropic.baseUrl,
        logger: options.logger,
        retry: options.retry,
        metrics: options.metrics,
      }),
    );
  }
  return providerSet(list);
}
