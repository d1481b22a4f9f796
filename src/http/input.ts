import type { NextFunction, Request, Response } from 'express';
import { BadRequest } from '../errors.js';

/**
 * NUL (U+0000) cannot be stored in PostgreSQL text and means nothing in what people type or an LMS sends (it comes
 * from pasted binary junk): it is removed from every string of a request's body and query, keys included, once,
 * where the request comes in. Before this, a NUL in any text field ended in a 500 from the database.
 */
export function withoutNul<T>(value: T): T {
  if (typeof value === 'string') return (value.includes('\u0000') ? value.replaceAll('\u0000', '') : value) as T;
  if (Array.isArray(value)) return value.map(withoutNul) as T;
  if (value && typeof value === 'object' && !Buffer.isBuffer(value)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[withoutNul(k)] = withoutNul(v);
    return out as T;
  }
  return value;
}

/** After a body parser: the body and the query without NUL. (Express 5 parses `req.query` on each read: it is pinned.) */
export function cleanInput(req: Request, _res: Response, next: NextFunction): void {
  if (req.body !== undefined) req.body = withoutNul(req.body);
  Object.defineProperty(req, 'query', { value: withoutNul(req.query), writable: true, configurable: true, enumerable: true });
  next();
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
