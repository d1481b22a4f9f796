import type { ErrorRequestHandler, RequestHandler } from 'express';
import { errorPage } from '../views/error.view.js';

/**
 * How an error reaches the caller: browser endpoints answer an HTML page, OAuth and service endpoints JSON
 * `{error, error_description}` (RFC 6749 §5.2 shape, which tools' HTTP clients already know how to read).
 */
export type ErrorFormat = 'page' | 'json';

export class DevLmsError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly format: ErrorFormat,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'DevLmsError';
  }
}

/** An HTML error page (browser endpoints: launch, auth before the redirect URI is trusted, deep-linking return). */
export const pageError = (status: number, message: string, code = 'error') => new DevLmsError(status, code, message, 'page');

/** A JSON error for OAuth and LTI service endpoints. */
export const jsonError = (status: number, code: string, description: string, headers: Record<string, string> = {}) =>
  new DevLmsError(status, code, description, 'json', headers);

/** Marks a router's errors as JSON, including ones thrown by body parsers before any handler runs. */
export const jsonErrors: RequestHandler = (_req, res, next) => {
  res.locals.errorFormat = 'json';
  next();
};

interface BodyParserError {
  status: number;
  type?: string;
  expose?: boolean;
  message: string;
}

function isBodyParserError(err: unknown): err is BodyParserError {
  return typeof err === 'object' && err !== null && typeof (err as BodyParserError).status === 'number' && (err as BodyParserError).expose === true;
}

/**
 * The one error handler: a DevLmsError as it asks, a body-parser error as a 4xx, anything else as a bare 500
 * whose details go to `report` only (never to the caller).
 */
export function errorHandler(report: (err: unknown) => void): ErrorRequestHandler {
  return (err, _req, res, _next) => {
    let error: DevLmsError;
    if (err instanceof DevLmsError) {
      error = err;
    } else if (isBodyParserError(err)) {
      const format: ErrorFormat = res.locals.errorFormat === 'json' ? 'json' : 'page';
      const message = err.type === 'entity.parse.failed' ? 'The request body is not valid JSON.' : err.message;
      error = new DevLmsError(err.status, 'invalid_request', message, format);
    } else {
      report(err);
      const format: ErrorFormat = res.locals.errorFormat === 'json' ? 'json' : 'page';
      error = new DevLmsError(500, 'server_error', 'The development LMS failed unexpectedly; see its log.', format);
    }
    if (res.headersSent) return;
    res.status(error.status).set(error.headers);
    if (error.format === 'json') {
      res.set('Cache-Control', 'no-store').json({ error: error.code, error_description: error.message });
    } else {
      res.type('html').send(errorPage(error.status, error.message));
    }
  };
}
