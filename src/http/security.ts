import type { NextFunction, Request, Response } from 'express';

/**
 * Headers for every response. No X-Frame-Options and no frame-ancestors limit: an LTI tool lives inside LMS
 * frames, on hosts we cannot list in advance. Scripts only from our origin, so escaped output stays inert.
 * No referrer: page URLs may carry the launch token.
 */
export function securityHeaders(_req: Request, res: Response, next: NextFunction): void {
  res.setHeader(
    'Content-Security-Policy',
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
      "object-src 'none'; base-uri 'none'; form-action 'self'",
  );
  res.setHeader('Referrer-Policy', 'no-referrer');
  res.setHeader('X-Content-Type-Options', 'nosniff');
  next();
}

/**
 * Trap 1: inside an LMS iframe the tool is a third party, and current Chromium drops its cookies unless they
 * are partitioned (CHIPS). Every cross-site cookie we or ltijs set gets the Partitioned attribute. This wraps
 * setHeader, which both Express 5 (ours) and Express 4 (ltijs') use for Set-Cookie.
 */
export function partitionedCookies(_req: Request, res: Response, next: NextFunction): void {
  const setHeader = res.setHeader.bind(res);
  res.setHeader = ((name: string, value: number | string | readonly string[]) => {
    if (name.toLowerCase() === 'set-cookie') {
      value = Array.isArray(value) ? value.map(partition) : typeof value === 'string' ? partition(value) : value;
    }
    return setHeader(name, value);
  }) as typeof res.setHeader;
  next();
}

function partition(cookie: string): string {
  if (/;\s*partitioned/i.test(cookie)) return cookie;
  if (/;\s*samesite=none/i.test(cookie) && /;\s*secure/i.test(cookie)) return `${cookie}; Partitioned`;
  return cookie;
}

/** Responses that must not be cached anywhere (every dynamic response: see app.ts). */
export function noStore(_req: Request, res: Response, next: NextFunction): void {
  res.setHeader('Cache-Control', 'no-store');
  next();
}
