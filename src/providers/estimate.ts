import { estimateCostMicros, type PriceMode } from './pricing.js';
import type { GradingRequest } from '../grading/request.js';
import { countChatTokens, estimateOutputTokens } from './tokens.js';

export interface RequestEstimate {
  /** Exact prompt tokens. */
  inputTokens: number;
  /** Expected output tokens (see estimateOutputTokens). */
  outputTokens: number;
  costMicros: number;
}

/**
 * What one grading request should cost before it runs: exact prompt tokens, expected output tokens (the prompt
 * version's observed mean when known), priced for the mode. What a queue item stores as its estimate.
 */
export function estimateRequest(
  req: Pick<GradingRequest, 'model' | 'messages' | 'maxOutputTokens'>,
  mode: PriceMode,
  observedMeanOutputTokens?: number | null,
): RequestEstimate {
  const inputTokens = countChatTokens(req.model, req.messages);
  const outputTokens = estimateOutputTokens(req.maxOutputTokens, observedMeanOutputTokens);
  return { inputTokens, outputTokens, costMicros: estimateCostMicros({ inputTokens, outputTokens }, req.model, mode) };
}
