import { APIConnectionError, APIError } from 'openai';
import { z } from 'zod';
import { classifyStatus, ProviderError, type ProviderErrorCode } from '../errors.js';

const errorBody = z.object({ message: z.string().optional(), code: z.string().nullish(), type: z.string().nullish() });

/** Retry-After in milliseconds from an OpenAI error response (retry-after-ms, then retry-after seconds). */
export function retryAfterFrom(err: ProviderError): number | null {
  const cause = err.cause;
  if (!(cause instanceof APIError) || !cause.headers) return null;
  const ms = Number(cause.headers.get('retry-after-ms'));
  if (cause.headers.get('retry-after-ms') !== null && Number.isFinite(ms)) return ms;
  const seconds = Number(cause.headers.get('retry-after'));
  if (cause.headers.get('retry-after') !== null && Number.isFinite(seconds)) return seconds * 1000;
  return null;
}

function classify(status: number, providerCode: string | null): { code: ProviderErrorCode; retryable: boolean } {
  // A 429 is usually "slow down" — but "insufficient_quota" means billing is exhausted and no wait will help.
  if (status === 429 && providerCode === 'insufficient_quota') return { code: 'quota_exceeded', retryable: false };
  return classifyStatus(status);
}

const HINTS: Partial<Record<ProviderErrorCode, string>> = {
  authentication: ' Check OPENAI_API_KEY.',
  quota_exceeded: ' The OpenAI account has no quota left: check its billing.',
  rate_limited: ' OpenAI is rate-limiting this account; it will be retried.',
};

/** Any error thrown by the OpenAI SDK (or our own parsing) → a ProviderError with a sentence an admin can read. */
export function toProviderError(err: unknown, operation: string): ProviderError {
  if (err instanceof ProviderError) return err;
  if (err instanceof APIConnectionError) {
    return new ProviderError(`Could not reach OpenAI to ${operation}: ${err.message}`, { code: 'network', retryable: true, cause: err });
  }
  if (err instanceof APIError && typeof err.status === 'number') {
    const body = errorBody.safeParse(err.error);
    const providerCode = (body.success ? body.data.code : null) ?? null;
    const detail = (body.success ? body.data.message : undefined) ?? 'no error message';
    const { code, retryable } = classify(err.status, providerCode);
    return new ProviderError(
      `OpenAI refused to ${operation}: ${detail} (HTTP ${err.status}${providerCode ? `, ${providerCode}` : ''}).${HINTS[code] ?? ''}`,
      { code, retryable, httpStatus: err.status, providerCode, cause: err },
    );
  }
  if (err instanceof z.ZodError) {
    const where = err.issues.slice(0, 3).map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    return new ProviderError(`OpenAI answered "${operation}" with something this version cannot read: ${where}`, {
      code: 'invalid_response',
      retryable: false,
      cause: err,
    });
  }
  const message = err instanceof Error ? err.message : String(err);
  return new ProviderError(`Unexpected error while trying to ${operation}: ${message}`, { code: 'invalid_response', retryable: false, cause: err });
}
