/**
 * What went wrong talking to a provider, in two kinds callers act on: retryable (rate limit, server error,
 * network: try again later, same request) and permanent (bad key, bad request, unknown batch: retrying will not
 * help, a person must look). Messages are written for the administrator who sees them on the batch page.
 */

export type ProviderErrorCode =
  | 'rate_limited'
  | 'quota_exceeded'
  | 'server_error'
  | 'network'
  | 'authentication'
  | 'permission'
  | 'not_found'
  | 'invalid_request'
  | 'too_large'
  | 'invalid_response'
  | 'conflict';

export class ProviderError extends Error {
  readonly retryable: boolean;
  readonly code: ProviderErrorCode;
  /** HTTP status of the provider's answer, when there was one. */
  readonly httpStatus: number | null;
  /** The provider's own error code (e.g. "rate_limit_exceeded"), when it gave one. */
  readonly providerCode: string | null;

  constructor(
    message: string,
    options: {
      code: ProviderErrorCode;
      retryable: boolean;
      httpStatus?: number | null;
      providerCode?: string | null;
      cause?: unknown;
    },
  ) {
    super(message, { cause: options.cause });
    this.name = 'ProviderError';
    this.code = options.code;
    this.retryable = options.retryable;
    this.httpStatus = options.httpStatus ?? null;
    this.providerCode = options.providerCode ?? null;
  }
}

export function isRetryable(err: unknown): boolean {
  return err instanceof ProviderError && err.retryable;
}

/**
 * What an HTTP status means for any provider, once its own special cases (a 429 that is really an empty account, a
 * billing error) are decided: 5xx and 408 are worth another try, as is a 409; the rest are refusals.
 */
export function classifyStatus(status: number): { code: ProviderErrorCode; retryable: boolean } {
  if (status === 429) return { code: 'rate_limited', retryable: true };
  if (status >= 500 || status === 408) return { code: 'server_error', retryable: true };
  if (status === 409) return { code: 'conflict', retryable: true };
  if (status === 401) return { code: 'authentication', retryable: false };
  if (status === 403) return { code: 'permission', retryable: false };
  if (status === 404) return { code: 'not_found', retryable: false };
  if (status === 413) return { code: 'too_large', retryable: false };
  return { code: 'invalid_request', retryable: false };
}
