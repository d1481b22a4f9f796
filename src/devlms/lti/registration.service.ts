import { randomBytes } from 'node:crypto';
import type { DevLmsContext } from '../context.js';
import { withTransaction } from '../db/queryable.js';
import { insertRegistration, nextDeploymentId, type Registration } from '../db/registrations.repository.js';
import { consumeRegistrationToken, insertRegistrationToken } from '../db/tokens.repository.js';
import { hashToken } from '../http/service-auth.js';
import type { RegistrationRequest } from '../routes/registration.schema.js';
import { MESSAGE_TYPE, TOOL_CONFIGURATION } from './claims.js';

export const REGISTRATION_TOKEN_TTL_SECONDS = 3600;

/** A one-time registration token, as the page hands it to the tool (only its hash is stored). */
export async function issueRegistrationToken(ctx: DevLmsContext): Promise<string> {
  const token = randomBytes(32).toString('base64url');
  await insertRegistrationToken(ctx.pool, hashToken(token), new Date(Date.now() + REGISTRATION_TOKEN_TTL_SECONDS * 1000));
  return token;
}

/**
 * Creates the tool's registration (new client_id and deployment) and uses up the token in one transaction,
 * so a token registers one tool. Returns null when the token was used or expired meanwhile.
 */
export async function registerTool(ctx: DevLmsContext, token: string, request: RegistrationRequest): Promise<Registration | null> {
  const config = request[TOOL_CONFIGURATION];
  const messages = config.messages ?? [{ type: MESSAGE_TYPE.resourceLink }];
  const resourceLink = messages.find((m) => m.type === MESSAGE_TYPE.resourceLink);
  const deepLinking = messages.find((m) => m.type === MESSAGE_TYPE.deepLinking);
  return withTransaction(ctx.pool, async (tx) => {
    if (!(await consumeRegistrationToken(tx, hashToken(token)))) return null;
    const registration: Registration = {
      clientId: `devlms-${randomBytes(6).toString('hex')}`,
      deploymentId: await nextDeploymentId(tx),
      name: request.client_name,
      initiateLoginUri: request.initiate_login_uri,
      targetLinkUri: resourceLink?.target_link_uri ?? config.target_link_uri,
      deepLinkUri: deepLinking ? (deepLinking.target_link_uri ?? config.target_link_uri) : null,
      redirectUris: request.redirect_uris,
      jwksUri: request.jwks_uri,
      scopes: (request.scope ?? '').split(' ').filter(Boolean),
      custom: config.custom_parameters ?? {},
      source: 'dynamic',
      toolConfiguration: request,
    };
    await insertRegistration(tx, registration);
    return registration;
  });
}

/** The registration response: the request as accepted, plus the client_id and the deployment_id. */
export function registrationResponse(request: RegistrationRequest, registration: Registration): Record<string, unknown> {
  return {
    ...request,
    client_id: registration.clientId,
    scope: registration.scopes.join(' '),
    [TOOL_CONFIGURATION]: { ...request[TOOL_CONFIGURATION], deployment_id: registration.deploymentId },
  };
}
