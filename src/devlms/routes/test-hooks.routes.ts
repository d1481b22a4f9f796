import { randomBytes } from 'node:crypto';
import express, { Router } from 'express';
import { importJWK, type JWK } from 'jose';
import type { DevLmsContext } from '../context.js';
import { findRegistration } from '../db/registrations.repository.js';
import { jsonError, jsonErrors } from '../http/errors.js';
import { parseWith } from '../http/validate.js';
import { AuthRedirectError, checkAuthRequest } from '../lti/auth.service.js';
import { buildLaunchClaims, signPlatformJwt, type SigningOverride } from '../lti/id-token.js';
import { LaunchError, loginInitiationUrl, resolveLaunch, type ResolvedLaunch } from '../lti/launch.service.js';
import { faultsSchema } from '../faults.js';
import { authRequestSchema } from './oidc.schema.js';
import { mintIdTokenSchema, testLaunchQuerySchema, type MintIdTokenRequest } from './test-hooks.schema.js';

const invalid = (m: string) => jsonError(400, 'invalid_request', m);

/**
 * Hooks for the tool's tests, mounted only with `testHooks: true` (never in the demo): forge id_tokens against
 * the real login flow, get a login initiation URL as JSON, inject faults.
 */
export function testHookRoutes(ctx: DevLmsContext): Router {
  const router = Router();
  router.use(['/__test', '/__faults'], jsonErrors, express.json({ limit: '256kb' }));

  router.get('/__test/launch/:login', async (req, res) => {
    const query = parseWith(testLaunchQuerySchema, req.query, invalid);
    const launch = await resolveOr400(() =>
      resolveLaunch(ctx.pool, { login: req.params.login, task: query.task, message: query.message, clientId: query.client, resourceLinkId: query.link }),
    );
    const loginUrl = await loginInitiationUrl(ctx, launch);
    res.json({ loginUrl, params: Object.fromEntries(new URL(loginUrl).searchParams) });
  });

  router.post('/__test/id-token', async (req, res) => {
    const body = parseWith(mintIdTokenSchema, req.body, invalid);
    const { launch, nonce, state, redirectUri } = body.authUrl ? await fromAuthUrl(ctx, body.authUrl) : await fromLogin(ctx, body);
    const now = Math.floor(Date.now() / 1000);
    const claims: Record<string, unknown> = {
      ...(await buildLaunchClaims(ctx, ctx.pool, launch, { nonce: body.nonce ?? nonce, now })),
      iat: now + body.iatOffsetSeconds,
      exp: now + body.expiresIn,
      ...body.set,
    };
    for (const name of body.unset) delete claims[name];
    const override: SigningOverride = {};
    if (body.signingKey) {
      const jwk = body.signingKey as JWK;
      if (jwk.kty !== 'RSA' || !jwk.d) throw invalid('signingKey: must be a private RSA JWK (kty "RSA" with "d").');
      try {
        override.key = await importJWK(jwk, 'RS256');
      } catch {
        throw invalid('signingKey: must be a private RSA JWK usable for RS256.');
      }
      override.kid = (body.signingKey as JWK).kid ?? null;
    }
    if (body.kid !== undefined) override.kid = body.kid;
    const idToken = await signPlatformJwt(ctx, claims, override);
    res.json({ id_token: idToken, claims, state: state ?? null, redirect_uri: redirectUri });
  });

  router.get('/__faults', (_req, res) => {
    res.json(ctx.faults.current());
  });
  router.post('/__faults', (req, res) => {
    ctx.faults.set(parseWith(faultsSchema, req.body ?? {}, invalid));
    res.json(ctx.faults.current());
  });
  return router;
}

async function resolveOr400(fn: () => Promise<ResolvedLaunch>): Promise<ResolvedLaunch> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof LaunchError) throw jsonError(err.status === 404 ? 404 : 400, 'invalid_request', err.message);
    throw err;
  }
}

interface MintSource {
  launch: ResolvedLaunch;
  nonce: string;
  state: string | null;
  redirectUri: string;
}

async function fromLogin(ctx: DevLmsContext, body: MintIdTokenRequest): Promise<MintSource> {
  const launch = await resolveOr400(() =>
    resolveLaunch(ctx.pool, { login: body.login!, task: body.task, resourceLinkId: body.resourceLinkId, message: body.message, clientId: body.clientId }),
  );
  return { launch, nonce: randomBytes(16).toString('hex'), state: null, redirectUri: launch.targetLinkUri.split('?')[0]! };
}

/** Answers a real login: the /auth request the tool made is checked like /auth does, then its values are reused. */
async function fromAuthUrl(ctx: DevLmsContext, authUrl: string): Promise<MintSource> {
  const params = parseWith(authRequestSchema, Object.fromEntries(new URL(authUrl).searchParams), (m) => invalid(`authUrl: ${m}`));
  const registration = params.client_id ? await findRegistration(ctx.pool, params.client_id) : null;
  if (!registration) throw invalid('authUrl: client_id is missing or unknown.');
  if (!params.redirect_uri || !registration.redirectUris.includes(params.redirect_uri)) throw invalid('authUrl: redirect_uri is not registered.');
  try {
    const launch = await checkAuthRequest(ctx, ctx.pool, registration, params);
    return { launch, nonce: launch.nonce, state: params.state ?? null, redirectUri: params.redirect_uri };
  } catch (err) {
    if (err instanceof AuthRedirectError) throw invalid(`authUrl: ${err.code}: ${err.message}`);
    throw err;
  }
}
