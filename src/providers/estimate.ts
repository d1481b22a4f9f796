import { estimateCostMicros, type PriceMode } from './pricing.js';
import type { GradingRequest } from '../grading/request.js';
import { countRequestTokens, estimateOutputTokens } from './tokens.js';

export interface RequestEstimate {
  /** Prompt tokens: the messages exactly, the response format's schema as OpenAI is measured to count it. */
  inputTokens: number;
  /** Expected output tokens (see estimateOutputTokens). */
  outputTokens: number;
  costMicros: number;
}

/** What is known of a request's answer before it runs: its prompt version's mean so far, and its rubric's size. */
export interface OutputHints {
  observedMean?: number | null;
  criteria?: number;
}

/**
 * What one grading request should cost before it runs: exact prompt tokens, expected output tokens (the prompt
 * version's observed mean when known, else the answer's shape for its rubric), priced for the mode. What a queue
 * item stores as its estimate.
 */
export function estimateRequest(req: Pick<GradingRequest, 'model' | 'messages' | 'maxOutputTokens'> & Partial<Pick<GradingRequest, 'responseFormat'>>, mode: PriceMode, hints: OutputHints = {}): RequestEstimate {
  const inputTokens = countRequestTokens(req.model, req.messages, req.responseFormat);
  const outputTokens = estimateOutputTokens(req.maxOutputTokens, hints.observedMean, hints.criteria);
  return { inputTokens, outputTokens, costMicros: estimateCostMicros({ inputTokens, outputTokens }, req.model, mode) };
}
