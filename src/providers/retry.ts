import { setTimeout as sleep } from 'node:timers/promises';
import { ProviderError } from './errors.js';

/** How often and how patiently a provider call is retried after a retryable failure. */
export interface RetryPolicy {
  /** Attempts in all, the first included (1 = no retry). */
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

/** A few attempts over ~15 s: enough for a rate-limit blip, short enough that a job retries later instead. */
export const DEFAULT_RETRY_POLICY: RetryPolicy = { maxAttempts: 4, baseDelayMs: 1000, maxDelayMs: 8000 };

/**
 * Exponential backoff with jitter (so workers that failed together do not retry together), or the server's
 * Retry-After when it sent one; never more than maxDelayMs.
 */
export function backoffDelayMs(policy: RetryPolicy, failedAttempt: number, retryAfterMs: number | null): number {
  if (retryAfterMs !== null) return Math.min(policy.maxDelayMs, Math.max(0, retryAfterMs));
  const exp = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (failedAttempt - 1));
  return Math.round(exp / 2 + (Math.random() * exp) / 2);
}

/**
 * Runs op until it succeeds, fails with a permanent ProviderError, or runs out of attempts. The last error is
 * rethrown with the number of attempts in its message, so an admin can tell "down for a minute" from "refused".
 */
export async function withRetry<T>(
  policy: RetryPolicy,
  op: (attempt: number) => Promise<T>,
  hooks: { retryAfterMs?: (err: ProviderError) => number | null; onRetry?: (err: ProviderError, attempt: number, delayMs: number) => void } = {},
): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await op(attempt);
    } catch (err) {
      if (!(err instanceof ProviderError) || !err.retryable) throw err;
      if (attempt >= policy.maxAttempts) {
        if (attempt === 1) throw err;
        throw new ProviderError(`${err.message} Gave up after ${attempt} attempts.`, {
          code: err.code,
          retryable: true,
          httpStatus: err.httpStatus,
          providerCode: err.providerCode,
          cause: err,
        });
      }
      const delay = backoffDelayMs(policy, attempt, hooks.retryAfterMs?.(err) ?? null);
      hooks.onRetry?.(err, attempt, delay);
      await sleep(delay);
    }
  }
}
