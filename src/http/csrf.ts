import { createHmac, timingSafeEqual } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import { HttpError } from '../errors.js';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * CSRF tokens bound to the launch: HMAC of the ltik, so they need no storage and die with the session.
 * Pages carry the token in a meta tag (htmx sends it as X-CSRF-Token) and in a hidden `_csrf` field on forms.
 */
export function csrfTokenFor(key: string, ltik: string): string {
  return createHmac('sha256', key).update(`csrf:${ltik}`).digest('base64url');
}

export function csrfProtection(key: string) {
  return (req: Request, res: Response, next: NextFunction): void => {
    if (SAFE_METHODS.has(req.method)) return next();
    const ltik = res.locals.ltik as string | undefined;
    const sent = req.get('X-CSRF-Token') ?? (req.body && typeof req.body._csrf === 'string' ? (req.body._csrf as string) : undefined);
    if (!ltik || !sent || !safeEqual(sent, csrfTokenFor(key, ltik))) {
      return next(new HttpError(403, 'csrf_failed', 'This form is missing its security token or it has expired. Reload the page and try again.'));
    }
    next();
  };
}

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
