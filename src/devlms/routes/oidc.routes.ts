import express, { Router, type Request, type Response } from 'express';
import type { DevLmsContext } from '../context.js';
import { findRegistration } from '../db/registrations.repository.js';
import { pageError } from '../http/errors.js';
import { parseWith } from '../http/validate.js';
import { AuthRedirectError, checkAuthRequest } from '../lti/auth.service.js';
import { buildLaunchClaims, signPlatformJwt } from '../lti/id-token.js';
import { formPostPage } from '../views/form-post.view.js';
import { authRequestSchema, type AuthRequest } from './oidc.schema.js';

/** The OIDC authorization endpoint: the second leg of an LTI launch, answering the tool's login redirect. */
export function oidcRoutes(ctx: DevLmsContext): Router {
  const router = Router();
  router.use('/auth', express.urlencoded({ extended: false, limit: '64kb' }));

  const authorize = async (req: Request, res: Response) => {
    const params = parseWith(authRequestSchema, { ...(req.query as object), ...((req.body as object | undefined) ?? {}) }, (m) =>
      pageError(400, `Invalid authentication request: ${m}`, 'invalid_request'),
    );
    // Until client and redirect URI are trusted, errors stay on this page: redirecting to an unchecked URI
    // would make the platform an open redirector.
    if (!params.client_id) throw pageError(400, 'Invalid authentication request: client_id is missing.', 'invalid_request');
    const registration = await findRegistration(ctx.pool, params.client_id);
    if (!registration) throw pageError(400, `Unknown client_id "${params.client_id}": no tool is registered with it.`, 'unauthorized_client');
    if (!params.redirect_uri) throw pageError(400, 'Invalid authentication request: redirect_uri is missing.', 'invalid_request');
    if (!registration.redirectUris.includes(params.redirect_uri)) {
      const queryNote = params.redirect_uri.includes('?')
        ? ' It carries a query string; registered redirect URIs have none (send the target_link_uri without its query).'
        : '';
      throw pageError(
        400,
        `redirect_uri "${params.redirect_uri}" is not registered for client "${registration.clientId}".${queryNote} Registered: ${registration.redirectUris.join(', ')}.`,
        'invalid_request',
      );
    }

    res.set('Cache-Control', 'no-store');
    try {
      const launch = await checkAuthRequest(ctx, ctx.pool, registration, params);
      const claims = await buildLaunchClaims(ctx, ctx.pool, launch, { nonce: launch.nonce });
      const idToken = await signPlatformJwt(ctx, claims);
      res.type('html').send(formPostPage({ action: params.redirect_uri, fields: { id_token: idToken, state: params.state! }, heading: 'Opening the tool…' }));
    } catch (err) {
      if (!(err instanceof AuthRedirectError)) throw err;
      sendAuthError(res, params, params.redirect_uri, err);
    }
  };

  router.get('/auth', authorize);
  router.post('/auth', authorize);
  return router;
}

/**
 * Errors go back to the trusted redirect URI in the response mode the tool asked for: form_post (OAuth 2.0
 * Form Post Response Mode; Moodle does the same), or a query-string redirect when the mode itself was wrong.
 */
function sendAuthError(res: Response, params: AuthRequest, redirectUri: string, err: AuthRedirectError): void {
  const fields: Record<string, string> = { error: err.code, error_description: err.message };
  if (params.state) fields.state = params.state;
  if (params.response_mode === 'form_post') {
    res.type('html').send(formPostPage({ action: redirectUri, fields, heading: 'The launch was refused' }));
    return;
  }
  res.redirect(302, `${redirectUri}?${new URLSearchParams(fields).toString()}`);
}
