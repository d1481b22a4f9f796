import type { ErrorRequestHandler, RequestHandler, Response } from 'express';
import type { Logger } from '../../log.js';
import { ApiError } from '../api-error.js';
import { newId } from '../hash.js';

/**
 * Errors in Anthropic's envelope, {type: "error", error: {type, message}, request_id}, with its statuses (docs
 * "Errors"): 400 invalid_request_error, 401 authentication_error, 402 billing_error, 403 permission_error,
 * 404 not_found_error, 413 request_too_large, 429 rate_limit_error, 500 api_error, 504 timeout_error,
 * 529 overloaded_error. Messages follow the API's where known (pydantic-style "field: problem" for bad parameters).
 */
export class AnthropicApiError extends ApiError {
  constructor(status: number, message: string, errorType: string, headers: Record<string, string> = {}) {
    super(status, message, errorType, null, null, headers);
    this.name = 'AnthropicApiError';
  }

  /** The error object alone, as a batch's errored result carries it (inside its own envelope). */
  errorObject() {
    return { type: this.type, message: this.message };
  }
}

export const invalid = (message: string) => new AnthropicApiError(400, message, 'invalid_request_error');
export const notFound = (message: string) => new AnthropicApiError(404, message, 'not_found_error');
export const rateLimited = () => new AnthropicApiError(429, 'Number of request tokens has exceeded your per-minute rate limit (emulator fault).', 'rate_limit_error', { 'retry-after': '1' });
export const internal = () => new AnthropicApiError(500, 'Internal server error', 'api_error');
export const overloaded = () => new AnthropicApiError(529, 'Overloaded', 'overloaded_error');

/** The response's request id (its `request-id` header), shared by the error body. */
function requestIdOf(res: Response): string {
  const id = res.get('request-id');
  return typeof id === 'string' ? id : newId('req_', 24);
}

export function sendAnthropicError(res: Response, err: AnthropicApiError): void {
  res.status(err.status).set(err.headers).json({ type: 'error', error: err.errorObject(), request_id: requestIdOf(res) });
}

/** Every Anthropic response carries a request id: `request-id: req_…`. */
export const anthropicRequestId: RequestHandler = (_req, res, next) => {
  res.set('request-id', newId('req_', 24));
  next();
};

/**
 * Any key is accepted (the emulator stands in for Anthropic, not for its access control), but the SDK's headers
 * must be there: x-api-key and anthropic-version, as the API requires them.
 */
export const requireAnthropicHeaders: RequestHandler = (req, res, next) => {
  if (!req.get('x-api-key') && !/^Bearer\s+\S+/i.test(req.get('authorization') ?? '')) {
    return sendAnthropicError(res, new AnthropicApiError(401, 'x-api-key header is required', 'authentication_error'));
  }
  if (!req.get('anthropic-version')) return sendAnthropicError(res, invalid('anthropic-version: header is required'));
  next();
};

export const unknownAnthropicRoute: RequestHandler = (req, res) => {
  sendAnthropicError(res, notFound(`Not found: ${req.method} ${req.originalUrl.split('?')[0]}`));
};

/** The Anthropic side's one error handler: its errors as they are, body-parser errors and anything else in its envelope. */
export const anthropicErrorHandler = (logger: Logger): ErrorRequestHandler => (err: unknown, req, res, _next) => {
  if (err instanceof AnthropicApiError) return sendAnthropicError(res, err);
  const e = err as { type?: string; message?: string };
  if (e.type === 'entity.parse.failed') return sendAnthropicError(res, invalid('There was an error parsing the body of your request: it is not valid JSON.'));
  if (e.type === 'entity.too.large') return sendAnthropicError(res, new AnthropicApiError(413, 'Request exceeds the maximum allowed number of bytes.', 'request_too_large'));
  logger.error('emulator request failed', { method: req.method, path: req.path, err });
  sendAnthropicError(res, internal());
};
