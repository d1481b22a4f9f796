import { randomBytes } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import { withLogContext } from '../log.js';

/** What we accept from a proxy's X-Request-Id: long enough to be an id, nothing a log or a page could misread. */
const SAFE_REQUEST_ID = /^[A-Za-z0-9._-]{8,64}$/;

/** The request's id (set by requestId below; every request past it has one). */
export function requestIdOf(res: Response): string | undefined {
  return res.locals.requestId as string | undefined;
}

/**
 * Gives every request an id: the proxy's X-Request-Id when it is safe, else a new one. It is echoed in the
 * response's X-Request-Id, carried by every log line written while the request is handled (src/log.ts), and is
 * the reference an error page shows.
 */
export function requestId(req: Request, res: Response, next: NextFunction): void {
  const incoming = req.get('X-Request-Id');
  const id = incoming && SAFE_REQUEST_ID.test(incoming) ? incoming : randomBytes(8).toString('hex');
  res.locals.requestId = id;
  res.setHeader('X-Request-Id', id);
  withLogContext({ requestId: id }, next);
}
