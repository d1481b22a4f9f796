import type { DevLmsContext } from '../context.js';
import type { Queryable } from '../db/queryable.js';
import type { Registration } from '../db/registrations.repository.js';
import type { AuthRequest } from '../routes/oidc.schema.js';
import { LaunchError, resolveFromHint, type ResolvedLaunch } from './launch.service.js';
import { SignedStateError, verifyMessageHint } from './signed-state.js';

/** An error /auth reports to the tool's (trusted) redirect URI, as OIDC error codes. */
export class AuthRedirectError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'AuthRedirectError';
  }
}

const invalid = (message: string) => new AuthRedirectError('invalid_request', message);

/**
 * Checks an authentication request whose client and redirect URI are already trusted, and resolves the launch
 * its message hint stands for. Throws AuthRedirectError with the first problem found.
 */
export async function checkAuthRequest(
  ctx: DevLmsContext,
  q: Queryable,
  registration: Registration,
  p: AuthRequest,
): Promise<ResolvedLaunch & { nonce: string }> {
  if (p.response_type !== 'id_token') {
    throw new AuthRedirectError('unsupported_response_type', `response_type must be "id_token" (got ${JSON.stringify(p.response_type ?? null)}).`);
  }
  if (!(p.scope ?? '').split(' ').includes('openid')) {
    throw new AuthRedirectError('invalid_scope', `scope must be "openid" (got ${JSON.stringify(p.scope ?? null)}).`);
  }
  if (p.response_mode !== 'form_post') throw invalid(`response_mode must be "form_post" (got ${JSON.stringify(p.response_mode ?? null)}).`);
  if (p.prompt !== 'none') throw invalid(`prompt must be "none" (got ${JSON.stringify(p.prompt ?? null)}).`);
  if (!p.state) throw invalid('state is missing: the tool must send one and check it when the id_token comes back.');
  if (!p.nonce) throw invalid('nonce is missing: the tool must send one and find it in the id_token.');
  if (!p.login_hint) throw invalid('login_hint is missing: send back the login_hint of the login initiation.');
  if (!p.lti_message_hint) throw invalid('lti_message_hint is missing: send back the lti_message_hint of the login initiation unchanged.');
  if (p.id_token_signed_response_alg !== undefined && p.id_token_signed_response_alg !== 'RS256') {
    throw invalid('id_token_signed_response_alg must be RS256, the only algorithm this platform signs with.');
  }
  if (p.lti_deployment_id !== undefined && p.lti_deployment_id !== registration.deploymentId) {
    throw invalid(`lti_deployment_id "${p.lti_deployment_id}" is not this tool's deployment.`);
  }

  let hint;
  try {
    hint = await verifyMessageHint(ctx, p.lti_message_hint);
  } catch (err) {
    if (err instanceof SignedStateError) {
      throw invalid(err.reason === 'expired' ? 'lti_message_hint has expired: launch again from the course.' : err.message);
    }
    throw err;
  }
  if (hint.client_id !== registration.clientId) throw invalid('lti_message_hint was issued for another client_id.');
  if (hint.login_hint !== p.login_hint) throw invalid('login_hint does not match the lti_message_hint it was sent with.');

  try {
    const launch = await resolveFromHint(q, hint);
    return { ...launch, nonce: p.nonce };
  } catch (err) {
    if (err instanceof LaunchError) throw new AuthRedirectError(err.status === 403 ? 'access_denied' : 'invalid_request', err.message);
    throw err;
  }
}
