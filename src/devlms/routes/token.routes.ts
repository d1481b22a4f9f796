import { randomBytes } from 'node:crypto';
import express, { Router } from 'express';
import type { DevLmsContext } from '../context.js';
import { insertAccessToken } from '../db/tokens.repository.js';
import { jsonError, jsonErrors } from '../http/errors.js';
import { hashToken, injectFaults } from '../http/service-auth.js';
import { parseWith } from '../http/validate.js';
import { SERVICE_SCOPES } from '../lti/claims.js';
import { verifyClientAssertion } from '../lti/client-assertion.js';
import { JWT_BEARER, tokenRequestSchema } from './token.schema.js';

export const ACCESS_TOKEN_TTL_SECONDS = 3600;

/** The OAuth 2.0 token endpoint tools call for AGS and NRPS access tokens. */
export function tokenRoutes(ctx: DevLmsContext): Router {
  const router = Router();
  router.post('/token', jsonErrors, injectFaults(ctx, 'token'), express.urlencoded({ extended: false, limit: '64kb' }), async (req, res) => {
    if (!req.is('application/x-www-form-urlencoded')) {
      throw jsonError(400, 'invalid_request', 'The token request must be a form (Content-Type: application/x-www-form-urlencoded).');
    }
    const body = parseWith(tokenRequestSchema, req.body ?? {}, (m) => jsonError(400, 'invalid_request', m));
    if (body.grant_type !== 'client_credentials') {
      throw jsonError(400, 'unsupported_grant_type', `grant_type must be "client_credentials" (got ${JSON.stringify(body.grant_type ?? null)}).`);
    }
    if (body.client_assertion_type !== JWT_BEARER) {
      throw jsonError(400, 'invalid_request', `client_assertion_type must be "${JWT_BEARER}".`);
    }
    if (!body.client_assertion) throw jsonError(400, 'invalid_request', 'client_assertion is missing.');
    const scopes = [...new Set((body.scope ?? '').split(' ').filter(Boolean))];
    if (!scopes.length) throw jsonError(400, 'invalid_scope', 'scope is missing: ask for the AGS / NRPS scopes the call needs.');

    const registration = await verifyClientAssertion(ctx, ctx.pool, body.client_assertion);
    const unknown = scopes.filter((s) => !SERVICE_SCOPES.includes(s));
    if (unknown.length) throw jsonError(400, 'invalid_scope', `Unsupported scope: ${unknown.join(' ')}.`);
    const notGranted = scopes.filter((s) => !registration.scopes.includes(s));
    if (notGranted.length) throw jsonError(400, 'invalid_scope', `The tool is not registered for: ${notGranted.join(' ')}.`);

    const accessToken = randomBytes(32).toString('base64url');
    await insertAccessToken(ctx.pool, {
      tokenHash: hashToken(accessToken),
      clientId: registration.clientId,
      scopes,
      expiresAt: new Date(Date.now() + ACCESS_TOKEN_TTL_SECONDS * 1000),
    });
    res.set('Cache-Control', 'no-store').json({
      access_token: accessToken,
      token_type: 'Bearer',
      expires_in: ACCESS_TOKEN_TTL_SECONDS,
      scope: scopes.join(' '),
    });
  });
  return router;
}
