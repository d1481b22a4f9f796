import { createHash } from 'node:crypto';
import type { RequestHandler } from 'express';
import type { DevLmsContext } from '../context.js';
import { findAccessToken } from '../db/tokens.repository.js';
import type { FaultArea } from '../faults.js';
import { jsonError } from './errors.js';

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('base64url');
}

export interface ServiceClient {
  clientId: string;
  scopes: string[];
}

const CHALLENGE = 'Bearer realm="devlms"';

/**
 * Requires `Authorization: Bearer <access token>` from /token carrying at least one of `anyOf` (RFC 6750:
 * 401 invalid_token for a missing, unknown or expired token, 403 insufficient_scope for the wrong scope).
 * The token's client is left in `res.locals.client`.
 */
export function requireScope(ctx: DevLmsContext, anyOf: readonly string[]): RequestHandler {
  return async (req, res, next) => {
    const match = /^Bearer\s+(\S+)$/i.exec(req.get('authorization') ?? '');
    if (!match) {
      throw jsonError(401, 'invalid_token', 'An "Authorization: Bearer <access token>" header is required (get a token from the token endpoint).', {
        'WWW-Authenticate': CHALLENGE,
      });
    }
    const token = await findAccessToken(ctx.pool, hashToken(match[1]!));
    if (!token) {
      throw jsonError(401, 'invalid_token', 'The access token is unknown or has expired.', {
        'WWW-Authenticate': `${CHALLENGE}, error="invalid_token"`,
      });
    }
    if (!anyOf.some((s) => token.scopes.includes(s))) {
      throw jsonError(403, 'insufficient_scope', `This call needs the scope ${anyOf.join(' or ')}; the token has: ${token.scopes.join(' ') || 'none'}.`, {
        'WWW-Authenticate': `${CHALLENGE}, error="insufficient_scope", scope="${anyOf.join(' ')}"`,
      });
    }
    res.locals.client = { clientId: token.clientId, scopes: token.scopes } satisfies ServiceClient;
    next();
  };
}

export function serviceClient(locals: Record<string, unknown>): ServiceClient {
  return locals.client as ServiceClient;
}

/** Fails the request when a fault is pending for its area (see Faults); an outage answers before any auth. */
export function injectFaults(ctx: DevLmsContext, area: FaultArea): RequestHandler {
  return async (_req, res, next) => {
    const fault = ctx.faults.take(area);
    if (!fault) return next();
    if (fault.delayMs) {
      // Wait, unless the client gives up first (what a slow-LMS test checks): then do nothing more for it.
      const stayed = await new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(true), fault.delayMs);
        res.once('close', () => {
          clearTimeout(timer);
          resolve(false);
        });
      });
      if (!stayed) return;
    }
    if (fault.status === 200) return next();
    const headers: Record<string, string> = fault.retryAfterSeconds === undefined ? {} : { 'Retry-After': String(fault.retryAfterSeconds) };
    const code = fault.status >= 500 ? 'server_error' : fault.status === 429 ? 'rate_limited' : 'fault_injected';
    throw jsonError(fault.status, code, `Injected fault on ${area} (${fault.failNext} more to come).`, headers);
  };
}
