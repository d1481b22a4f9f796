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
