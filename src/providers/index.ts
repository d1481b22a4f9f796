import type { Config } from '../config.js';
import type { Logger } from '../log.js';
import { OpenAIBatchProvider, type ProviderMetrics } from './openai/openai-provider.js';
import type { BatchProvider } from './provider.js';
import type { RetryPolicy } from './retry.js';

export * from './provider.js';
export { customIdFor, parseCustomId, type ParsedCustomId } from './custom-id.js';
export { ProviderError, isRetryable, type ProviderErrorCode } from './errors.js';
export { describeProviderMode, type ProviderMode } from './mode.js';
export {
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

/**
 * The provider the app uses: OpenAI at config.openai.baseUrl — the real API when OPENAI_API_KEY is set, else the
 * local emulator (demo mode), which accepts any key.
 */
export function createProvider(
  config: Pick<Config, 'openai'>,
  options: { logger?: Logger; retry?: Partial<RetryPolicy>; metrics?: ProviderMetrics } = {},
): BatchProvider {
  return new OpenAIBatchProvider({
    apiKey: config.openai.apiKey ?? 'demo-mode-emulator-key',
    baseURL: config.openai.baseUrl,
    logger: options.logger,
    retry: options.retry,
    metrics: options.metrics,
  });
}
