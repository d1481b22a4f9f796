import type pg from 'pg';
import type { PlatformKey } from './db/keys.repository.js';
import type { Faults } from './faults.js';
import type { ToolKeys } from './lti/tool-keys.js';

/** The seeded tool's URLs (defaults derived from `toolUrl`, each overridable). */
export interface ToolUrls {
  loginUrl: string;
  launchUrl: string;
  jwksUrl: string;
  deepLinkUrl: string;
  /** Every URL /auth may redirect to; defaults to the launch and deep-linking URLs (no query strings, ltijs trap 7). */
  redirectUris: string[];
}

export interface PlatformInfo {
  guid: string;
  name: string;
  productFamilyCode: string;
  version: string;
}

/** What every route and service of one dev LMS instance shares. */
export interface DevLmsContext {
  pool: pg.Pool;
  /** Public base URL, without a trailing slash. */
  url: string;
  issuer: string;
  tool: ToolUrls;
  platform: PlatformInfo;
  key: PlatformKey;
  /** HS256 key for the platform's own short-lived tokens (message hints, deep-linking data). */
  secret: Uint8Array;
  toolKeys: ToolKeys;
  faults: Faults;
  endpoints: Endpoints;
}

export interface Endpoints {
  auth: string;
  token: string;
  jwks: string;
  register: string;
  openidConfiguration: string;
  deepLinkReturn: string;
  returnUrl: string;
  lineItems(contextId: string): string;
  lineItem(contextId: string, id: number): string;
  memberships(contextId: string): string;
}

export function endpointsFor(url: string): Endpoints {
  const course = (contextId: string) => `${url}/api/lti/courses/${encodeURIComponent(contextId)}`;
  return {
    auth: `${url}/auth`,
    token: `${url}/token`,
    jwks: `${url}/jwks`,
    register: `${url}/register`,
    openidConfiguration: `${url}/.well-known/openid-configuration`,
    deepLinkReturn: `${url}/deep_link_return`,
    returnUrl: `${url}/return`,
    lineItems: (contextId) => `${course(contextId)}/line_items`,
    lineItem: (contextId, id) => `${course(contextId)}/line_items/${id}`,
    memberships: (contextId) => `${course(contextId)}/memberships`,
  };
}
