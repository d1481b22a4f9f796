import { randomBytes } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import { ZodError } from 'zod';
import type { Logger } from '../log.js';
import { HttpError, TooManyRequestsError } from '../errors.js';
import { isFragmentRequest, render } from './render.js';
import { isDatabaseUnavailable } from '../db/unavailable.js';
import { fieldsOf } from '../validation.js';
import { requestIdOf } from './request-id.js';

/** API clients get JSON errors; people get a page, or a fragment when htmx asked. */
export function wantsJson(req: Request): boolean {
  if (req.originalUrl.startsWith('/api/')) return true;
  const accept = req.get('Accept') ?? '';
  return accept.includes('application/json') && !accept.includes('text/html');
}

const DATABASE_UNAVAILABLE = new HttpError(
  503,
  'database_unavailable',
  'llm-assess cannot reach its database right now. Please try again in a minute; if it keeps happening, tell your administrator the reference below.',
);

/** Turns anything thrown into an error that is safe to show. Unknown errors become a 500 with a reference. */
export function toHttpError(err: unknown): HttpError {
  if (err instanceof HttpError) return err;
  if (err instanceof ZodError) {
    return new HttpError(422, 'invalid', 'Please correct the highlighted fields.', fieldsOf(err));
  }
  const e = err as { type?: string; status?: number; code?: string; message?: string; field?: string };
  // body-parser (its errors carry a type and a 4xx status)
  if (e?.type === 'entity.too.large') return new HttpError(413, 'too_large', 'The request is too large. Shorten the text or upload a smaller file.');
  if (e?.type === 'parameters.too.many') return new HttpError(413, 'too_many_fields', 'The form has too many fields.');
  if (e?.type === 'entity.parse.failed') return new HttpError(400, 'malformed_body', 'The request body could not be read (malformed JSON or form data).');
  if (e?.type === 'encoding.unsupported' || e?.type === 'charset.unsupported') return new HttpError(415, 'unsupported_encoding', 'The request uses an unsupported encoding.');
  // multer
  if (e?.code === 'LIMIT_FILE_SIZE') return new HttpError(413, 'file_too_large', 'The uploaded file is too large.');
  if (typeof e?.code === 'string' && e.code.startsWith('LIMIT_')) return new HttpError(400, 'bad_upload', `The upload was refused: ${e.message ?? e.code}.`);
  // Anything else Express or a parser refused as the client's fault (an aborted body, a path with bad
  // %-encoding): its 4xx status, with words of our own.
  if (typeof e?.status === 'number' && e.status >= 400 && e.status < 500) return new HttpError(e.status, 'bad_request', 'The request could not be read.');
  if (isDatabaseUnavailable(err)) return DATABASE_UNAVAILABLE;
  return new HttpError(500, 'internal_error', 'Something went wrong on our side. Please try again; if it keeps happening, tell your administrator the reference below.');
}

export function errorHandler(logger: Logger) {
  // Express recognises error handlers by their four parameters.
  return (err: unknown, req: Request, res: Response, _next: NextFunction): void => {
    const httpError = toHttpError(err);
    let reference: string | undefined;
    if (httpError.status >= 500) {
      // The request's id: the one word an administrator needs to find every log line of the failed request.
      reference = requestIdOf(res) ?? randomBytes(8).toString('hex');
      logger.error('request failed', { reference, method: req.method, path: req.path, err });
    } else {
      logger.debug('request refused', { status: httpError.status, code: httpError.code, path: req.path });
    }
    if (res.headersSent) {
      res.end();
      return;
    }
    res.setHeader('Cache-Control', 'no-store');
    if (httpError instanceof TooManyRequestsError) res.setHeader('Retry-After', String(httpError.retryAfterSeconds));
    if (httpError === DATABASE_UNAVAILABLE) res.setHeader('Retry-After', '30');
    if (wantsJson(req)) {
      const body: Record<string, unknown> = { code: httpError.code, message: httpError.message };
      if (Object.keys(httpError.fields).length) body.fields = httpError.fields;
      if (reference) body.reference = reference;
      res.status(httpError.status).json({ error: body });
      return;
    }
    if (isFragmentRequest(req)) {
      // htmx swaps error responses into the page's alert region (see the layout's htmx-config).
      res.setHeader('HX-Retarget', '#flash');
      res.setHeader('HX-Reswap', 'innerHTML');
    }
    render(
      req,
      res,
      'pages/error',
      { title: titleFor(httpError.status), status: httpError.status, message: httpError.message, code: httpError.code, fields: httpError.fields, reference },
      { status: httpError.status, fragment: 'partials/_error' },
    );
  };
}

function titleFor(status: number): string {
  if (status === 401) return 'Please launch the tool again';
  if (status === 403) return 'Not allowed';
  if (status === 404) return 'Not found';
  if (status === 413) return 'Too large';
  if (status === 422) return 'Please check your input';
  if (status === 429) return 'Too many requests';
  if (status === 503) return 'Temporarily unavailable';
  if (status >= 500) return 'Something went wrong';
  return 'Request refused';
}

export function notFoundHandler(_req: Request, _res: Response, next: NextFunction): void {
  next(new HttpError(404, 'not_found', 'The page was not found.'));
}
