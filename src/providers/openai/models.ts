import { getModelPrice, isKnownModel } from '../pricing.js';

/**
 * Reasoning models (GPT-5 family, o-series) reject a non-default `temperature` and the old `max_tokens`
 * parameter. The price file says which models reason; an id it does not list is judged by its name.
 */
export function isReasoningModel(model: string): boolean {
  if (isKnownModel(model)) return getModelPrice(model).reasoning;
  return /^(o\d|gpt-5)/.test(model.startsWith('ft:') ? model.slice(3) : model);
}
