import { SignJWT, type CryptoKey, type KeyObject } from 'jose';
import type { DevLmsContext } from '../context.js';
import { findLineItemForLink } from '../db/line-items.repository.js';
import type { Queryable } from '../db/queryable.js';
import { AGS_SCOPES, CLAIM, COURSE_OFFERING, MESSAGE_TYPE, SCOPE } from './claims.js';
import type { ResolvedLaunch } from './launch.service.js';
import { signDeepLinkingData } from './signed-state.js';
import { substitute } from './substitution.js';

export const ID_TOKEN_TTL_SECONDS = 300;

type Claims = Record<string, unknown>;

/**
 * The id_token claims of a launch, as Canvas and Moodle send them: OIDC identity, the LTI core claims, the AGS
 * and NRPS service claims the tool's scopes allow, and deep-linking settings for an LtiDeepLinkingRequest.
 */
export async function buildLaunchClaims(ctx: DevLmsContext, q: Queryable, launch: ResolvedLaunch, opts: { nonce: string; now?: number }): Promise<Claims> {
  const now = opts.now ?? Math.floor(Date.now() / 1000);
  const claims: Claims = { ...identityClaims(ctx, launch, now, opts.nonce), ...ltiCoreClaims(ctx, launch) };
  const { link } = launch;
  if (link) claims[CLAIM.resourceLink] = { id: link.id, title: link.title, description: link.description ?? '' };
  Object.assign(claims, await serviceClaims(ctx, q, launch));
  if (launch.messageType === MESSAGE_TYPE.deepLinking) claims[CLAIM.deepLinkingSettings] = await deepLinkingSettings(ctx, launch);
  return claims;
}

/** The OIDC part: who signs, for which tool, for how long, and who the person is. */
function identityClaims(ctx: DevLmsContext, { person, registration }: ResolvedLaunch, now: number, nonce: string): Claims {
  return {
    iss: ctx.issuer,
    aud: registration.clientId,
    azp: registration.clientId,
    sub: person.sub,
    iat: now,
    exp: now + ID_TOKEN_TTL_SECONDS,
    nonce,
    name: person.name,
    given_name: person.givenName,
    family_name: person.familyName,
    email: person.email,
    locale: 'en',
  };
}

function ltiCoreClaims(ctx: DevLmsContext, launch: ResolvedLaunch): Claims {
  const { person, course, registration } = launch;
  return {
    [CLAIM.messageType]: launch.messageType,
    [CLAIM.version]: '1.3.0',
    [CLAIM.deploymentId]: registration.deploymentId,
    [CLAIM.targetLinkUri]: launch.targetLinkUri,
    [CLAIM.roles]: launch.roles,
    [CLAIM.context]: { id: course.contextId, label: course.label, title: course.title, type: [COURSE_OFFERING] },
    [CLAIM.toolPlatform]: {
      guid: ctx.platform.guid,
      name: ctx.platform.name,
      product_family_code: ctx.platform.productFamilyCode,
      version: ctx.platform.version,
    },
    [CLAIM.launchPresentation]: { document_target: 'iframe', return_url: ctx.endpoints.returnUrl, locale: 'en' },
    [CLAIM.lis]: { person_sourcedid: `sis-${person.login}`, course_offering_sourcedid: `sis-${course.contextId}` },
    [CLAIM.custom]: customClaim(launch),
  };
}

/** The registration's and the link's custom parameters, with the substitution variables filled in. */
function customClaim({ person, course, registration, link }: ResolvedLaunch): Record<string, string> {
  return substitute(
    { ...registration.custom, ...(link?.custom ?? {}) },
    {
      'User.id': person.sub,
      'User.username': person.login,
      'Person.name.full': person.name,
      'Person.name.given': person.givenName,
      'Person.name.family': person.familyName,
      'Person.email.primary': person.email,
      'Context.id': course.contextId,
      'Context.label': course.label,
      'Context.title': course.title,
      'ResourceLink.id': link?.id,
      'ResourceLink.title': link?.title,
      'ResourceLink.description': link?.description ?? undefined,
    },
  );
}

/** The AGS and NRPS endpoint claims, each only when the tool's registration has a scope of that service. */
async function serviceClaims(ctx: DevLmsContext, q: Queryable, { course, registration, link }: ResolvedLaunch): Promise<Claims> {
  const claims: Claims = {};
  const agsScopes = AGS_SCOPES.filter((s) => registration.scopes.includes(s));
  if (agsScopes.length) {
    const lineItem = link ? await findLineItemForLink(q, link.id) : null;
    claims[CLAIM.ags] = {
      scope: agsScopes,
      lineitems: ctx.endpoints.lineItems(course.contextId),
      ...(lineItem ? { lineitem: ctx.endpoints.lineItem(course.contextId, lineItem.id) } : {}),
    };
  }
  if (registration.scopes.includes(SCOPE.membershipReadonly)) {
    claims[CLAIM.nrps] = { context_memberships_url: ctx.endpoints.memberships(course.contextId), service_versions: ['2.0'] };
  }
  return claims;
}

/** What this platform accepts back (one resource link), and the signed `data` the tool must echo. */
async function deepLinkingSettings(ctx: DevLmsContext, { person, course, registration }: ResolvedLaunch): Promise<Claims> {
  return {
    deep_link_return_url: ctx.endpoints.deepLinkReturn,
    accept_types: ['ltiResourceLink'],
    accept_presentation_document_targets: ['iframe', 'window'],
    accept_multiple: false,
    accept_lineitem: true,
    auto_create: true,
    title: 'Add an llm-assess activity',
    data: await signDeepLinkingData(ctx, {
      login: person.login,
      client_id: registration.clientId,
      deployment_id: registration.deploymentId,
      context_id: course.contextId,
    }),
  };
}

export interface SigningOverride {
  /** Sign with this key instead of the platform key (forged-signature tests). */
  key?: CryptoKey | KeyObject | Uint8Array;
  /** Header `kid`; null leaves it out. Defaults to the platform key's kid. */
  kid?: string | null;
}

/** Signs claims as the platform (RS256, header kid), or with an override for negative tests. */
export async function signPlatformJwt(ctx: DevLmsContext, claims: Record<string, unknown>, override: SigningOverride = {}): Promise<string> {
  const kid = override.kid === undefined ? ctx.key.kid : override.kid;
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'RS256', typ: 'JWT', ...(kid === null ? {} : { kid }) })
    .sign(override.key ?? ctx.key.privateKey);
}
