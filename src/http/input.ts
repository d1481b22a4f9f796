import type { NextFunction, Request, Response } from 'express';
import { BadRequest, HttpError } from '../errors.js';

/**
 * NUL (U+0000) cannot be stored in PostgreSQL text and means nothing in what people type or an LMS sends (it comes
 * from pasted binary junk): it is removed from every string of a request's body and query, keys included, once,
 * where the request comes in. Before this, a NUL in any text field ended in a 500 from the database.
 */
/** Bodies nest a few levels at most (the JSON API's deepest is 3); anything far deeper is refused, not walked. */
const MAX_DEPTH = 32;

export function withoutNul<T>(value: T, depth = 0): T {
  if (typeof value === 'string') return (value.includes('\u0000') ? value.replaceAll('\u0000', '') : value) as T;
  if (depth > MAX_DEPTH) throw BadRequest('The request is nested too deeply to read.');
  if (Array.isArray(value)) return value.map((v) => withoutNul(v, depth + 1)) as T;
  if (value && typeof value === 'object' && !Buffer.isBuffer(value)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[withoutNul(k)] = withoutNul(v, depth + 1);
    return out as T;
  }
  return value;
}

/** After a body parser: the body and the query without NUL. (Express 5 parses `req.query` on each read: it is pinned.) */
export function cleanInput(req: Request, _res: Response, next: NextFunction): void {
  try {
    if (req.body !== undefined) req.body = withoutNul(req.body);
    Object.defineProperty(req, 'query', { value: withoutNul(req.query), writable: true, configurable: true, enumerable: true });
  } catch (err) {
    return next(err);
  }
  next();
}

const READS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Pages' forms take form posts only. The JSON parser runs for every route (the API needs it), and a form route fed
 * JSON would read `{"ids": true}` or `{"decisionSeq": null}` through its form helpers as something else entirely
 * (a `true` id became assessment #1): refused before any route sees it.
 */
export function formsOnly(req: Request, _res: Response, next: NextFunction): void {
  if (READS.has(req.method) || req.path.startsWith('/api/') || !req.is('application/json')) return next();
  next(new HttpError(415, 'form_expected', 'This page takes form posts (a form in the page), not JSON. Programs use the JSON API under /api/.'));
}

/** A path with broken %-encoding (`/student/tasks/%E0%A4%A`) is refused before any router tries to decode it. */
export function refuseUndecodablePath(req: Request, _res: Response, next: NextFunction): void {
  try {
    decodeURIComponent(req.path);
  } catch {
    return next(BadRequest('The request could not be read.'));
  }
  next();
}
