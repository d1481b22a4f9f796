import { decodeJwt, decodeProtectedHeader, errors as joseErrors, jwtVerify, type JWTPayload } from 'jose';
import type { DevLmsContext } from '../context.js';
import type { Queryable } from '../db/queryable.js';
import { findRegistration, type Registration } from '../db/registrations.repository.js';
import { claimJti } from '../db/tokens.repository.js';
import { jsonError, type DevLmsError } from '../http/errors.js';
import { ToolJwksUnavailable } from './tool-keys.js';

export const CLOCK_TOLERANCE_SECONDS = 10;

/**
 * Describes why a JWT signed by a tool did not verify, in words that point at the tool's bug.
 * `what` names the token ("client_assertion", "deep-linking response").
 */
export function describeToolJwtError(err: unknown, what: string, jwksUri: string, expectedAudience: string): string | null {
  if (err instanceof joseErrors.JWKSNoMatchingKey) return `No key in the tool's JWKS (${jwksUri}) matches the ${what}'s kid.`;
  if (err instanceof joseErrors.JWKSTimeout) return `The tool's JWKS (${jwksUri}) did not answer in time.`;
  if (err instanceof joseErrors.JWKSInvalid) return `The tool's JWKS (${jwksUri}) is not a valid JWK set.`;
  if (err instanceof joseErrors.JWSSignatureVerificationFailed) return `The ${what}'s signature does not verify with the tool's key.`;
  if (err instanceof joseErrors.JWTExpired) return `The ${what} has expired.`;
  if (err instanceof joseErrors.JWTClaimValidationFailed) {
    if (err.claim === 'aud') return `The ${what}'s aud must be ${expectedAudience}.`;
    if (err.reason === 'missing') return `The ${what} has no "${err.claim}" claim.`;
    return `The ${what}'s "${err.claim}" claim is not valid: ${err.message}.`;
  }
  if (err instanceof joseErrors.JOSEAlgNotAllowed) return `The ${what} must be signed with RS256.`;
  if (err instanceof joseErrors.JOSEError) return `The ${what} is not valid: ${err.message}.`;
  if (err instanceof ToolJwksUnavailable) return err.message;
  return null;
}

const invalidClient = (message: string): DevLmsError => jsonError(401, 'invalid_client', message);

/**
 * Verifies the RFC 7523 client assertion of a client-credentials grant (LTI Security 1.0 §4.1): RS256 signed
 * with a key from the tool's JWKS, iss = sub = client_id, aud = this token endpoint (or the issuer), not
 * expired, with a jti never seen before.
 */
export async function verifyClientAssertion(ctx: DevLmsContext, q: Queryable, assertion: string): Promise<Registration> {
  let unverified: JWTPayload;
  let alg: unknown;
  try {
    alg = decodeProtectedHeader(assertion).alg;
    unverified = decodeJwt(assertion);
  } catch {
    // jose throws TypeError or JWTInvalid here, depending on what is malformed: either way, not a JWT.
    throw invalidClient('The client_assertion is not a JWT.');
  }
  if (alg !== 'RS256') throw invalidClient(`The client_assertion must be signed with RS256 (got ${String(alg)}).`);
  if (!unverified.iss) throw invalidClient('The client_assertion has no iss (it must be the client_id).');
  const registration = await findRegistration(q, unverified.iss);
  if (!registration) throw invalidClient(`Unknown client "${unverified.iss}": no tool is registered with this client_id.`);

  let payload: JWTPayload;
  try {
    ({ payload } = await jwtVerify(assertion, ctx.toolKeys.forUrl(registration.jwksUri), {
      algorithms: ['RS256'],
      issuer: registration.clientId,
      subject: registration.clientId,
      audience: [ctx.endpoints.token, ctx.issuer],
      requiredClaims: ['exp', 'iat', 'jti', 'sub'],
      clockTolerance: CLOCK_TOLERANCE_SECONDS,
      // An assertion is for one request: a long-lived one is a leaked credential waiting to happen.
      maxTokenAge: '1h',
    }));
  } catch (err) {
    const message = describeToolJwtError(err, 'client_assertion', registration.jwksUri, ctx.endpoints.token);
    if (message) throw invalidClient(message);
    throw err;
  }
  const expiresAt = new Date((payload.exp! + CLOCK_TOLERANCE_SECONDS) * 1000);
  if (!(await claimJti(q, registration.clientId, `assertion:${payload.jti!}`, expiresAt))) {
    throw invalidClient(`The client_assertion jti "${payload.jti}" was already used: sign a new assertion for each token request.`);
  }
  return registration;
}
