import type { ErrorRequestHandler, RequestHandler, Response } from 'express';
import type { Logger } from '../log.js';

/**
 * Errors in OpenAI's envelope, {error: {message, type, param, code}}, with its status codes and (where we know
 * them) its exact messages, so client code meets here the errors it will meet in production.
 */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly type: string = 'invalid_request_error',
    readonly param: string | null = null,
    readonly code: string | null = null,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'ApiError';
  }

  toBody() {
    return { error: { message: this.message, type: this.type, param: this.param, code: this.code } };
  }
}

export const invalidRequest = (message: string, param: string | null = null, code: string | null = null) =>
  new ApiError(400, message, 'invalid_request_error', param, code);

export const notFound = (message: string, param: string | null = 'id') => new ApiError(404, message, 'invalid_request_error', param, null);

export const modelNotFound = (model: string) =>
  new ApiError(404, `The model \`${model}\` does not exist or you do not have access to it.`, 'invalid_request_error', null, 'model_not_found');

export function sendApiError(res: Response, err: ApiError): void {
  res.status(err.status).set(err.headers).json(err.toBody());
}

/** Any /v1 path or method the emulator does not serve: OpenAI's own wording. */
export const unknownRoute: RequestHandler = (req, res) => {
  sendApiError(res, new ApiError(404, `Invalid URL (${req.method} ${req.originalUrl.split('?')[0]})`));
};

/** The one error handler: ApiErrors as they are, body-parser errors as OpenAI words them, anything else as a 500. */
export const apiErrorHandler = (logger: Logger): ErrorRequestHandler => (err: unknown, req, res, _next) => {
  if (err instanceof ApiError) return sendApiError(res, err);
  const e = err as { type?: string; status?: number; code?: string; field?: string; message?: string };
  if (e.type === 'entity.parse.failed') {
    return sendApiError(
      res,
      invalidRequest(
        "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON.)",
      ),
    );
  }
  if (e.code === 'LIMIT_FILE_SIZE') return sendApiError(res, invalidRequest('File is too large.'));
  if (e.type === 'entity.too.large') return sendApiError(res, new ApiError(413, 'The request body is too large.'));
  if (typeof e.code === 'string' && e.code.startsWith('LIMIT_')) return sendApiError(res, invalidRequest(`Invalid multipart upload: ${e.message ?? e.code}`, e.field ?? null));
  logger.error('emulator request failed', { method: req.method, path: req.path, err });
  sendApiError(res, new ApiError(500, 'The server had an error while processing your request. Sorry about that!', 'server_error'));
};
