import type { DevLmsContext } from './context.js';
import { SEED } from './seed.js';

/** What the tool needs to register this platform (ltijs `registerPlatform` fields). */
export interface ToolRegistration {
  issuer: string;
  clientId: string;
  deploymentId: string;
  authenticationEndpoint: string;
  accesstokenEndpoint: string;
  authorizationServer: string;
  jwksUrl: string;
  name: string;
}

/** The same registration as the tool's own registration form takes it: a list of deployment ids. */
export interface PlatformRegistrationInput extends Omit<ToolRegistration, 'deploymentId'> {
  deploymentIds: string[];
}

/** The seeded tool's registration here: its client and deployment, and this platform's endpoints. */
export function toolRegistrationOf(ctx: DevLmsContext): ToolRegistration {
  return {
    issuer: ctx.issuer,
    clientId: SEED.clientId,
    deploymentId: SEED.deploymentId,
    authenticationEndpoint: ctx.endpoints.auth,
    accesstokenEndpoint: ctx.endpoints.token,
    authorizationServer: ctx.endpoints.token,
    jwksUrl: ctx.endpoints.jwks,
    name: ctx.platform.name,
  };
}

/**
 * The registration as the tool's `registerPlatform` (and `npm run lti -- register`) takes it, for whoever registers
 * this LMS with the tool the way an administrator would: the demo and the test stack.
 */
export function platformInputOf(reg: ToolRegistration): PlatformRegistrationInput {
  return {
    issuer: reg.issuer,
    clientId: reg.clientId,
    name: reg.name,
    authenticationEndpoint: reg.authenticationEndpoint,
    accesstokenEndpoint: reg.accesstokenEndpoint,
    authorizationServer: reg.authorizationServer,
    jwksUrl: reg.jwksUrl,
    deploymentIds: [reg.deploymentId],
  };
}
