import { APIConnectionError, APIError } from '@anthropic-ai/sdk';
import { z } from 'zod';
import { classifyStatus, ProviderError, type ProviderErrorCode } from '../errors.js';

/** Anthropic's error envelope: {type: "error", error: {type, message}, request_id}. */
const errorBody = z.object({ error: z.object({ type: z.string().nullish(), message: z.string().nullish() }) });

/** Retry-After in milliseconds from an Anthropic error response (retry-after-ms, then retry-after seconds). */
export function retryAfterFrom(err: ProviderError): number | null {
  const cause = err.cause;
  if (!(cause instanceof APIError) || !cause.headers) return null;
  const ms = cause.headers.get('retry-after-ms');
  if (ms !== null && Number.isFinite(Number(ms))) return Number(ms);
  const seconds = cause.headers.get('retry-after');
  if (seconds !== null && Number.isFinite(Number(seconds))) return Number(seconds) * 1000;
  return null;
}

/**
 * Anthropic's statuses (docs "Errors"): 400 invalid_request_error, 401 authentication_error, 402 billing_error,
 * 403 permission_error, 404 not_found_error, 413 request_too_large, 429 rate_limit_error, 500 api_error,
 * 504 timeout_error, 529 overloaded_error.
 */
function classify(status: number, type: string | null): { code: ProviderErrorCode; retryable: boolean } {
  // Anthropic's own: a billing error (unless the status already says rate limit, timeout or server error). 529 is a 5xx.
  if (status === 402 || (type === 'billing_error' && status !== 429 && status !== 408 && status < 500)) return { code: 'quota_exceeded', retryable: false };
  return classifyStatus(status);
}

const HINTS: Partial<Record<ProviderErrorCode, string>> = {
  authentication: ' Check ANTHROPIC_API_KEY.',
  quota_exceeded: ' The Anthropic account cannot be billed: check its plan and credit.',
  rate_limited: ' Anthropic is rate-limiting this account; it will be retried.',
};

/** Any error thrown by the Anthropic SDK (or our own parsing) → a ProviderError with a sentence an admin can read. */
export function toProviderError(err: unknown, operation: string): ProviderError {
  if (err instanceof ProviderError) return err;
  if (err instanceof APIConnectionError) {
    return new ProviderError(`Could not reach Anthropic to ${operation}: ${err.message}`, { code: 'network', retryable: true, cause: err });
  }
  if (err instanceof APIError && typeof err.status === 'number') {
    const body = errorBody.safeParse(err.error);
    const type = (body.success ? body.data.error.type : null) ?? null;
    const detail = (body.success ? body.data.error.message : null) ?? 'no error message';
    const { code, retryable } = classify(err.status, type);
    return new ProviderError(`Anthropic refused to ${operation}: ${detail} (HTTP ${err.status}${type ? `, ${type}` : ''}).${HINTS[code] ?? ''}`, {
      code,
      retryable,
      httpStatus: err.status,
      providerCode: type,
      cause: err,
    });
  }
  if (err instanceof z.ZodError) {
    const where = err.issues.slice(0, 3).map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    return new ProviderError(`Anthropic answered "${operation}" with something this version cannot read: ${where}`, { code: 'invalid_response', retryable: false, cause: err });
  }
  const message = err instanceof Error ? err.message : String(err);
  return new ProviderError(`Unexpected error while trying to ${operation}: ${message}`, { code: 'invalid_response', retryable: false, cause: err });
}
