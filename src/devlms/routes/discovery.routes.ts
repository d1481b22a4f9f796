import { Router, type RequestHandler } from 'express';
import type { DevLmsContext } from '../context.js';
import { listPublicKeys } from '../db/keys.repository.js';
import { CLAIM, MESSAGE_TYPE, PLATFORM_CONFIGURATION, SERVICE_SCOPES } from '../lti/claims.js';
import { SUPPORTED_VARIABLES } from '../lti/substitution.js';
import { injectFaults } from '../http/service-auth.js';

/** What a tool fetches to know this platform: its public keys and its OpenID configuration (for dynamic registration). */
export function discoveryRoutes(ctx: DevLmsContext): Router {
  const router = Router();

  const jwks: RequestHandler = async (_req, res) => {
    // Tools cache keys; a short max-age lets them see a new key soon after a rotation.
    res.set('Cache-Control', 'public, max-age=300').json({ keys: await listPublicKeys(ctx.pool) });
  };
  router.get('/jwks', injectFaults(ctx, 'jwks'), jwks);
  router.get('/.well-known/jwks.json', injectFaults(ctx, 'jwks'), jwks);

  router.get('/.well-known/openid-configuration', (_req, res) => {
    res.json({
      issuer: ctx.issuer,
      authorization_endpoint: ctx.endpoints.auth,
      token_endpoint: ctx.endpoints.token,
      token_endpoint_auth_methods_supported: ['private_key_jwt'],
      token_endpoint_auth_signing_alg_values_supported: ['RS256'],
      jwks_uri: ctx.endpoints.jwks,
      registration_endpoint: ctx.endpoints.register,
      authorization_server: ctx.endpoints.token,
      scopes_supported: ['openid', ...SERVICE_SCOPES],
      response_types_supported: ['id_token'],
      response_modes_supported: ['form_post'],
      subject_types_supported: ['public'],
      id_token_signing_alg_values_supported: ['RS256'],
      claims_supported: ['iss', 'aud', 'sub', 'iat', 'exp', 'nonce', 'name', 'given_name', 'family_name', 'email', 'locale'],
      [PLATFORM_CONFIGURATION]: {
        product_family_code: ctx.platform.productFamilyCode,
        version: ctx.platform.version,
        messages_supported: [
          { type: MESSAGE_TYPE.resourceLink, placements: ['course_navigation'] },
          { type: MESSAGE_TYPE.deepLinking, placements: ['assignment_selection', 'link_selection'] },
        ],
        variables: SUPPORTED_VARIABLES.map((v) => `$${v}`),
        supported_claims: Object.values(CLAIM),
      },
    });
  });
  return router;
}
