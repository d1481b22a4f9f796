import { createHmac, timingSafeEqual } from 'node:crypto';
import { decodeJwt, decodeProtectedHeader, errors as joseErrors, jwtVerify } from 'jose';
import { z } from 'zod';
import type { Db } from '../db/db.js';
import { claimNonce } from '../models/tenancy/nonces.repository.js';
import { LtiLaunchError, type HttpError } from '../errors.js';
import { admitPlatform } from './admission.js';
import { KeyNotFoundError, type JwksCache } from './jwks-cache.js';
import type { KnownPlatform, PlatformDirectory } from './platform-directory.js';

export const CLAIM = {
  messageType: 'https://purl.imsglobal.org/spec/lti/claim/message_type',
  version: 'https://purl.imsglobal.org/spec/lti/claim/version',
  deploymentId: 'https://purl.imsglobal.org/spec/lti/claim/deployment_id',
  targetLinkUri: 'https://purl.imsglobal.org/spec/lti/claim/target_link_uri',
  resourceLink: 'https://purl.imsglobal.org/spec/lti/claim/resource_link',
  roles: 'https://purl.imsglobal.org/spec/lti/claim/roles',
  context: 'https://purl.imsglobal.org/spec/lti/claim/context',
  custom: 'https://purl.imsglobal.org/spec/lti/claim/custom',
  deepLinkingSettings: 'https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings',
} as const;

/**
 * Limits on what a launch may carry. Every claim is stored (ltijs keeps the token, we keep names and titles) and
 * `sub` becomes a cookie: a 100,000-character `sub` once made a 16 KB cookie. OIDC caps `sub` at 255; titles and
 * names get room for any real LMS (Moodle activity names run to 1,333 characters).
 */
export const ID_TOKEN_MAX_CHARS = 64 * 1024;
const id = z.string().min(1).max(255);
const title = z.string().max(2000);
const name = z.string().max(500);

/** The claims a launch must carry, checked after the signature (so every value here is the platform's word). */
const launchClaims = z
  .object({
    sub: id,
    nonce: id,
    name: name.optional(),
    given_name: name.optional(),
    family_name: name.optional(),
    email: z.string().max(320).optional(),
    [CLAIM.messageType]: z.enum(['LtiResourceLinkRequest', 'LtiDeepLinkingRequest']),
    [CLAIM.version]: z.literal('1.3.0'),
    [CLAIM.deploymentId]: id,
    [CLAIM.roles]: z.array(z.string().max(255)).max(100),
    [CLAIM.targetLinkUri]: z.string().max(2048).optional(),
    [CLAIM.resourceLink]: z.object({ id, title: title.optional(), description: z.string().max(20_000).optional() }).passthrough().optional(),
    [CLAIM.context]: z.object({ id, title: title.optional(), label: title.optional() }).passthrough().optional(),
    [CLAIM.custom]: z.record(z.string().max(255), z.unknown()).refine((c) => Object.keys(c).length <= 100 && JSON.stringify(c).length <= 16_384, 'too large').optional(),
    [CLAIM.deepLinkingSettings]: z.object({ deep_link_return_url: z.string().url().max(2048), data: z.string().max(4096).optional() }).passthrough().optional(),
  })
  .passthrough()
  .superRefine((c, ctx) => {
    if (c[CLAIM.messageType] === 'LtiResourceLinkRequest') {
      if (!c[CLAIM.resourceLink]) ctx.addIssue({ code: 'custom', path: [CLAIM.resourceLink], message: 'required' });
      if (!c[CLAIM.targetLinkUri]) ctx.addIssue({ code: 'custom', path: [CLAIM.targetLinkUri], message: 'required' });
    } else if (!c[CLAIM.deepLinkingSettings]) {
      ctx.addIssue({ code: 'custom', path: [CLAIM.deepLinkingSettings], message: 'required' });
    }
  });

export type LaunchClaims = z.infer<typeof launchClaims> & Record<string, unknown>;

export interface VerifiedLaunch {
  claims: LaunchClaims;
  platform: KnownPlatform;
}

export interface IdTokenVerifierDeps {
  db: Db;
  platforms: PlatformDirectory;
  jwks: JwksCache;
  ltiKey: string;
  tokenMaxAgeSeconds: number;
  clockSkewSeconds: number;
}

/**
 * The OIDC nonce we send for a login, derived from its state: the id_token that answers must carry it, which
 * binds the token to the login this browser started (ltijs sends a random nonce and never checks it).
 */
export function nonceForState(ltiKey: string, state: string): string {
  return createHmac('sha256', ltiKey).update(`oidc-nonce:${state}`).digest('base64url');
}

function fail(code: string, message: string): HttpError {
  return LtiLaunchError(message, code);
}

const RELAUNCH = 'Please open the tool again from your course.';

/**
 * Verifies an LTI 1.3 id_token from the launch POST, completely, before ltijs sees it: signature with a cached
 * platform key, issuer and audience, expiry and age, the state cookie of this browser's login, the nonce bound
 * to that login and never seen before, the LTI claims, and the deployment allowlist.
 */
export async function verifyIdToken(
  deps: IdTokenVerifierDeps,
  input: { idToken: string; state: string; stateCookieIssuer: string | undefined },
): Promise<VerifiedLaunch> {
  const { header, unverified, issuer } = decodeUnverified(input.idToken);
  const platform = await platformForAudience(deps, issuer, unverified);
  checkStateCookie(input.stateCookieIssuer, issuer);
  const payload = await verifySignature(deps, input.idToken, { kid: header.kid, issuer, platform });
  const claims = parseLaunchClaims(payload);
  admitPlatform(platform, { issuer, deploymentId: claims[CLAIM.deploymentId], step: 'launch' });
  await claimLaunchNonce(deps, { state: input.state, issuer, nonce: claims.nonce, exp: payload.exp });
  return { claims, platform };
}

/**
 * Reads the token without trusting it: only to learn which platform (and which of its keys) to verify it with.
 * The size check comes first so an oversized token is never decoded.
 */
function decodeUnverified(idToken: string) {
  if (idToken.length > ID_TOKEN_MAX_CHARS) throw fail('token_too_large', `The id_token is larger than llm-assess accepts (${ID_TOKEN_MAX_CHARS / 1024} KB). ${RELAUNCH}`);
  let header: ReturnType<typeof decodeProtectedHeader>;
  let unverified: ReturnType<typeof decodeJwt>;
  try {
    header = decodeProtectedHeader(idToken);
    unverified = decodeJwt(idToken);
  } catch {
    throw fail('malformed_token', `The launch did not carry a readable id_token. ${RELAUNCH}`);
  }
  if (header.alg !== 'RS256') throw fail('unsupported_algorithm', 'The id_token must be signed with RS256.');
  const issuer = unverified.iss;
  if (!issuer) throw fail('missing_claim', 'The id_token has no issuer (iss).');
  return { header, unverified, issuer };
}

/**
 * The registered platform the token names: the first of its audiences we know under its issuer. With several
 * audiences, OIDC requires the authorized party (azp) to be us.
 */
async function platformForAudience(deps: IdTokenVerifierDeps, issuer: string, unverified: ReturnType<typeof decodeJwt>): Promise<KnownPlatform> {
  const audiences = Array.isArray(unverified.aud) ? unverified.aud : unverified.aud ? [unverified.aud] : [];
  let found: KnownPlatform | null = null;
  for (const aud of audiences) {
    found = await deps.platforms.get(issuer, aud);
    if (found) break;
  }
  const platform = admitPlatform(found, { issuer, step: 'launch' });
  if (audiences.length > 1 && unverified.azp !== platform.clientId) {
    throw fail('wrong_azp', 'The id_token names several audiences but its authorized party (azp) is not this tool.');
  }
  return platform;
}

/** The state cookie was set by our login endpoint in this browser; without it the token may come from anywhere. */
function checkStateCookie(stateCookieIssuer: string | undefined, issuer: string): void {
  if (!stateCookieIssuer) {
    throw fail(
      'missing_state_cookie',
      'Your browser did not send back the login cookie, so this launch cannot be trusted. ' +
        'If the tool runs inside your LMS, your browser may block its cookies: open it in a new window, or relaunch. ',
    );
  }
  if (stateCookieIssuer !== issuer) throw fail('issuer_mismatch', `The id_token comes from a different LMS than the login. ${RELAUNCH}`);
}

/** Signature, issuer, audience, expiry and age, with jose's errors turned into launch errors a person can act on. */
async function verifySignature(
  deps: IdTokenVerifierDeps,
  idToken: string,
  expected: { kid: string | undefined; issuer: string; platform: KnownPlatform },
): Promise<Record<string, unknown>> {
  try {
    const key = await deps.jwks.keyFor(expected.platform.authConfig, expected.kid);
    const result = await jwtVerify(idToken, key, {
      algorithms: ['RS256'],
      issuer: expected.issuer,
      audience: expected.platform.clientId,
      clockTolerance: deps.clockSkewSeconds,
      maxTokenAge: deps.tokenMaxAgeSeconds + deps.clockSkewSeconds,
      requiredClaims: ['exp', 'iat', 'nonce', 'sub'],
    });
    return result.payload as Record<string, unknown>;
  } catch (err) {
    throw mapVerifyError(err);
  }
}

/** Names the first bad claim without the long IMS prefix, so the message fits on a page. */
function parseLaunchClaims(payload: Record<string, unknown>): LaunchClaims {
  const parsed = launchClaims.safeParse(payload);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const claim = issue.path.map(String).join('.').replace(/https:\/\/purl\.imsglobal\.org\/spec\//g, '') || 'claim';
    if (issue.code === 'too_big') throw fail('claim_too_large', `The launch has a claim larger than llm-assess accepts: ${claim}.`);
    throw fail('invalid_claim', `The launch is missing or has an invalid claim: ${claim}.`);
  }
  return parsed.data as LaunchClaims;
}

/** The nonce must be the one bound to this browser's login, and must not have been used before. */
async function claimLaunchNonce(
  deps: IdTokenVerifierDeps,
  launch: { state: string; issuer: string; nonce: string; exp: unknown },
): Promise<void> {
  const expected = Buffer.from(nonceForState(deps.ltiKey, launch.state));
  const got = Buffer.from(launch.nonce);
  if (expected.length !== got.length || !timingSafeEqual(expected, got)) {
    throw fail('nonce_mismatch', `The id_token does not answer the login this browser started. ${RELAUNCH}`);
  }
  // Keep the nonce as long as the token could still be accepted, and then some.
  const exp = typeof launch.exp === 'number' ? launch.exp * 1000 : Date.now();
  const keepUntil = new Date(Math.max(exp, Date.now() + deps.tokenMaxAgeSeconds * 1000) + 2 * deps.clockSkewSeconds * 1000 + 60_000);
  if (!(await claimNonce(deps.db, launch.issuer, launch.nonce, keepUntil))) {
    throw fail('nonce_replayed', `This launch was already used. ${RELAUNCH}`);
  }
}

function mapVerifyError(err: unknown): HttpError {
  if (err instanceof KeyNotFoundError) return fail('unknown_key', `${err.message} ${RELAUNCH}`);
  // jose reports a token older than maxTokenAge as "expired" too, naming the iat claim.
  if (err instanceof joseErrors.JWTExpired && err.claim === 'iat') return fail('token_too_old', `The launch token is too old. ${RELAUNCH}`);
  if (err instanceof joseErrors.JWTExpired) return fail('token_expired', `The launch token has expired. ${RELAUNCH}`);
  if (err instanceof joseErrors.JWSSignatureVerificationFailed) return fail('bad_signature', 'The launch token signature is not valid.');
  if (err instanceof joseErrors.JWTClaimValidationFailed) {
    if (err.claim === 'iat') return fail('token_too_old', `The launch token is too old or not yet valid. ${RELAUNCH}`);
    if (err.claim === 'aud') return fail('wrong_audience', 'The launch token is meant for another tool.');
    if (err.claim === 'iss') return fail('wrong_issuer', 'The launch token comes from another issuer.');
    return fail('invalid_claim', `The launch token has an invalid "${err.claim}" claim.`);
  }
  if (err instanceof joseErrors.JOSEError) return fail('invalid_token', 'The launch token is not valid.');
  throw err;
}
