import { randomBytes } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import type { ProviderInstance } from 'ltijs';
import { z } from 'zod';
import { BadRequest } from '../errors.js';
import { admitPlatform } from './admission.js';
import { nonceForState } from './id-token.js';
import type { PlatformDirectory } from './platform-directory.js';
import { LTI_ROUTES } from './provider.js';

// Bounded: the hints go back to the LMS in the redirect's Location header, and a header of a megabyte is one no
// proxy or browser reads (Moodle's and Canvas's hints are a few hundred characters).
const loginParams = z.object({
  iss: z.string().min(1).max(2048),
  login_hint: z.string().min(1).max(2048),
  target_link_uri: z.string().url().max(2048),
  client_id: z.string().min(1).max(255).optional(),
  lti_deployment_id: z.string().min(1).max(255).optional(),
  lti_message_hint: z.string().max(4096).optional(),
});

export const STATE_COOKIE_MAX_AGE_MS = 10 * 60 * 1000;

/**
 * OIDC third-party-initiated login (the first leg of every launch). We own it rather than ltijs so that the
 * nonce is bound to the state we set in this browser, the target is checked to be our own launch URL (no open
 * redirect through the LMS), and an unknown deployment is refused before the person is sent anywhere.
 */
export function loginHandler(deps: { lti: ProviderInstance; platforms: PlatformDirectory; ltiKey: string; toolUrl: string }) {
  const launchUrl = new URL(LTI_ROUTES.launch, deps.toolUrl);
  return async (req: Request, res: Response, next: NextFunction): Promise<void> => {
    try {
      const parsed = loginParams.safeParse({ ...req.query, ...(req.body ?? {}) });
      if (!parsed.success) {
        const missing = parsed.error.issues.map((i) => i.path.join('.')).join(', ');
        throw BadRequest(`The LMS started a login with missing or invalid parameters (${missing}). Check the tool's registration in your LMS.`);
      }
      const p = parsed.data;
      const target = new URL(p.target_link_uri);
      if (target.origin !== launchUrl.origin || target.pathname !== launchUrl.pathname) {
        throw BadRequest(`The launch target ${target.origin}${target.pathname} is not this tool's launch URL (${launchUrl.href}). Check the tool's registration in your LMS.`);
      }
      let clientId = p.client_id;
      if (!clientId) {
        const known = await deps.platforms.clientIdsFor(p.iss);
        if (known.length > 1) throw BadRequest('This LMS has several registrations here and did not say which client it is (client_id). Check its configuration.');
        clientId = known[0];
      }
      const found = clientId ? await deps.platforms.get(p.iss, clientId) : null;
      const platform = admitPlatform(found, { issuer: p.iss, clientId, deploymentId: p.lti_deployment_id, step: 'login' });

      const state = randomBytes(24).toString('hex');
      // ltijs restores the target's query parameters (e.g. placement) after the launch from its state table.
      const query = Object.fromEntries(target.searchParams);
      if (Object.keys(query).length) await deps.lti.Database.Insert(false, 'state', { state, query });
      res.cookie(`state${state}`, p.iss, { signed: true, httpOnly: true, secure: true, sameSite: 'none', maxAge: STATE_COOKIE_MAX_AGE_MS });

      const auth = new URL(platform.authEndpoint);
      const params: Record<string, string> = {
        response_type: 'id_token',
        response_mode: 'form_post',
        scope: 'openid',
        prompt: 'none',
        client_id: platform.clientId,
        // Trap 7: the redirect URI is the target without its query string; the LMS matches it exactly.
        redirect_uri: launchUrl.href,
        login_hint: p.login_hint,
        state,
        nonce: nonceForState(deps.ltiKey, state),
      };
      if (p.lti_message_hint) params.lti_message_hint = p.lti_message_hint;
      if (p.lti_deployment_id) params.lti_deployment_id = p.lti_deployment_id;
      for (const [k, v] of Object.entries(params)) auth.searchParams.set(k, v);
      res.redirect(302, auth.href);
    } catch (err) {
      next(err);
    }
  };
}
