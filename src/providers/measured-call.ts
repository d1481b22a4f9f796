import type { Logger } from '../log.js';
import { secondsSince, type Metrics } from '../metrics/registry.js';
import type { ProviderError } from './errors.js';
import { withRetry, type RetryPolicy } from './retry.js';

/** What a provider adapter tells `measuredCall` about itself and one call. */
export interface CallContext {
  provider: string;
  /** The metric label of the call (upload_file, create_batch…). */
  op: string;
  /** The call in words, with its ids, for messages. */
  operation: string;
  retry: RetryPolicy;
  metrics: Pick<Metrics, 'providerDuration' | 'providerErrors'> | undefined;
  log: Logger;
  /** The provider's reading of an SDK error, and of its Retry-After. */
  toProviderError: (err: unknown, operation: string) => ProviderError;
  retryAfterFrom: (err: ProviderError) => number | null;
}

/**
 * Runs one SDK call with bounded retries, turning every failure into a ProviderError. Every attempt is timed, and
 * every failed one counted, under the provider and `op` (the same for OpenAI and Anthropic).
 */
export function measuredCall<T>(c: CallContext, fn: (attempt: number) => Promise<T>): Promise<T> {
  const labels = { provider: c.provider, operation: c.op };
  return withRetry(
    c.retry,
    async (attempt) => {
      const started = performance.now();
      try {
        return await fn(attempt);
      } catch (err) {
        const failure = c.toProviderError(err, c.operation);
        c.metrics?.providerErrors.inc({ ...labels, code: failure.code });
        throw failure;
      } finally {
        c.metrics?.providerDuration.observe(labels, secondsSince(started));
      }
    },
    {
      retryAfterMs: c.retryAfterFrom,
      onRetry: (err, attempt, delayMs) => c.log.warn(`${c.provider === 'openai' ? 'OpenAI' : 'Anthropic'} call failed; retrying`, { operation: c.operation, attempt, delayMs, error: err.message }),
    },
  );
}
