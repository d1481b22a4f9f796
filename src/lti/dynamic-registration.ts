import { createHash, randomBytes } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import { z } from 'zod';
import type { RootDb } from '../db/db.js';
import type { Logger } from '../log.js';
import { recordAudit } from '../models/audit/audit.repository.js';
import { insertInvite, recordInviteOutcome, spendInvite, type InviteRow } from '../models/tenancy/invites.repository.js';
import { findPlatformById, findPlatformsByIssuer } from '../models/tenancy/platforms.repository.js';
import { BadRequest, Conflict, HttpError } from '../errors.js';
import { render } from '../http/render.js';
import { issuerServes, sameOrigin } from './issuer-match.js';
import { fetchJsonUnder, OutboundError, schemeAllowed, urlRefusal, type OutboundPolicy } from '../net/outbound.js';
import { registerPlatform, type RegistrationDeps } from './registration.service.js';
import { LTI_ROUTES } from './provider.js';

export const INVITE_TTL_MS = 24 * 60 * 60 * 1000;
export const DYNAMIC_REGISTRATION_PATH = '/lti/dynamic-registration';

const hash = (token: string) => createHash('sha256').update(token).digest('hex');

/**
 * Who a registration link is for. A platform administrator's link registers another client of their own LMS
 * only (`issuer` is theirs); an operator's link (CLI) registers the LMS at `issuer`, or, without one, any LMS
 * that is not registered yet.
 */
export interface InviteScope {
  createdBy: string;
  createdByPlatformId: number | null;
  issuer: string | null;
  /** The platform the new client joins (its administrator's decision); null: a platform of its own. */
  joinPlatformId: number | null;
}

/**
 * A one-time link for LTI Dynamic Registration. ltijs' own /register fetches any URL it is given (an SSRF) and
 * registers whatever answers; ours only works with a link an administrator made, once, for a day, for the LMS
 * the link names.
 */
export async function createRegistrationInvite(db: RootDb, toolUrl: string, scope: InviteScope, note?: string): Promise<{ url: string; expiresAt: Date; invite: InviteRow }> {
  const token = randomBytes(24).toString('base64url');
  const expiresAt = new Date(Date.now() + INVITE_TTL_MS);
  const invite = await insertInvite(db, { tokenHash: hash(token), note: note?.slice(0, 200) || null, ...scope, expiresAt });
  return { url: `${toolUrl}${DYNAMIC_REGISTRATION_PATH}/${token}`, expiresAt, invite };
}

const openIdConfiguration = z.object({
  issuer: z.string().url(),
  authorization_endpoint: z.string().url(),
  token_endpoint: z.string().url(),
  jwks_uri: z.string().url(),
  registration_endpoint: z.string().url(),
  authorization_server: z.string().optional(),
  'https://purl.imsglobal.org/spec/lti-platform-configuration': z
    .object({ product_family_code: z.string().optional(), version: z.string().optional() })
    .passthrough()
    .optional(),
});
type OpenIdConfiguration = z.infer<typeof openIdConfiguration>;

const registrationResponse = z.object({
  client_id: z.string().min(1),
  'https://purl.imsglobal.org/spec/lti-tool-configuration': z.object({ deployment_id: z.string().min(1).optional() }).passthrough().optional(),
});

export interface DynamicRegistrationDeps extends RegistrationDeps {
  toolUrl: string;
  fetchTimeoutMs: number;
  /** What the outbound calls may reach (https only and no private addresses in production). */
  outbound: OutboundPolicy;
  logger: Logger;
}

/**
 * Every failure to reach the LMS reads the same, whatever happened: the text must not tell someone probing with
 * a registration link which internal hosts and ports answer. The cause goes to the log.
 */
const UNREACHABLE = 'The LMS did not answer the registration as an LTI platform does. Check the address and try again with a new link.';

async function callLms(deps: DynamicRegistrationDeps, url: string, init: { method?: 'POST'; headers?: Record<string, string>; body?: string }): Promise<unknown> {
  try {
    return await fetchJsonUnder(deps.outbound, url, { ...init, timeoutMs: deps.fetchTimeoutMs });
  } catch (err) {
    if (!(err instanceof OutboundError)) throw err;
    deps.logger.warn('dynamic registration: LMS call failed', { reason: err.reason, detail: err.message });
    throw new HttpError(502, 'platform_unreachable', UNREACHABLE);
  }
}

/** The tool configuration we send (IMS LTI Dynamic Registration 1.0, section 3.4). */
export function toolRegistrationRequest(toolUrl: string) {
  const u = new URL(toolUrl);
  return {
    application_type: 'web',
    response_types: ['id_token'],
    grant_types: ['implicit', 'client_credentials'],
    initiate_login_uri: `${toolUrl}${LTI_ROUTES.login}`,
    redirect_uris: [`${toolUrl}${LTI_ROUTES.launch}`],
    client_name: 'llm-assess',
    jwks_uri: `${toolUrl}${LTI_ROUTES.keys}`,
    token_endpoint_auth_method: 'private_key_jwt',
    scope: [
      'https://purl.imsglobal.org/spec/lti-ags/scope/lineitem',
      'https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly',
      'https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly',
      'https://purl.imsglobal.org/spec/lti-ags/scope/score',
      'https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly',
    ].join(' '),
    'https://purl.imsglobal.org/spec/lti-tool-configuration': {
      domain: u.host,
      description: 'Grade complex learning tasks with LLMs through batch APIs, under instructor control.',
      target_link_uri: `${toolUrl}${LTI_ROUTES.launch}`,
      claims: ['iss', 'sub', 'name', 'given_name', 'family_name', 'email'],
      messages: [
        { type: 'LtiResourceLinkRequest', target_link_uri: `${toolUrl}${LTI_ROUTES.launch}?placement=course_navigation`, placements: ['course_navigation'], label: 'llm-assess' },
        { type: 'LtiDeepLinkingRequest', target_link_uri: `${toolUrl}${LTI_ROUTES.launch}`, placements: ['assignment_selection', 'link_selection', 'ContentArea'], label: 'llm-assess activity' },
      ],
    },
  };
}

/** The configuration URL as given: a URL the policy allows, checked before the link is spent. */
function checkConfigurationUrl(configUrl: string, policy: OutboundPolicy): void {
  if (!configUrl) throw BadRequest('The LMS did not send its openid_configuration URL.');
  if (!URL.canParse(configUrl)) throw BadRequest('The openid_configuration parameter is not a URL.');
  const url = new URL(configUrl);
  if (url.username || url.password) throw BadRequest('The openid_configuration URL must not carry credentials.');
  // Only the scheme is judged here; where the URL leads is checked when it is called, with the same words for
  // every failure (see UNREACHABLE).
  if (!schemeAllowed(url, policy)) throw BadRequest('The openid_configuration URL must use https.');
}

/**
 * What the offered configuration may register under this link: it must come from under its issuer's URL, name
 * the issuer the link is for, and not take over an issuer registered by someone else.
 */
async function checkConfiguration(deps: DynamicRegistrationDeps, invite: InviteRow, configUrl: string, c: OpenIdConfiguration): Promise<void> {
  if (!issuerServes(c.issuer, configUrl)) {
    throw new HttpError(400, 'issuer_mismatch', `The LMS configuration names issuer ${c.issuer}, but was not served from under that URL.`);
  }
  for (const [name, url] of [['issuer', c.issuer], ['authorization_endpoint', c.authorization_endpoint], ['token_endpoint', c.token_endpoint], ['jwks_uri', c.jwks_uri]] as const) {
    if (urlRefusal(url, deps.outbound)) throw new HttpError(400, 'refused_endpoint', `The LMS configuration's ${name} is not an address llm-assess may use (https on a public host).`);
  }
  if (!sameOrigin(c.registration_endpoint, c.issuer)) {
    throw new HttpError(400, 'refused_endpoint', 'The LMS configuration\'s registration_endpoint is not on the same host as its issuer.');
  }
  if (invite.issuer !== null) {
    if (c.issuer !== invite.issuer) throw new HttpError(403, 'invite_scope', `This registration link is for the LMS ${invite.issuer}; it cannot register ${c.issuer}.`);
    return;
  }
  const known = (await findPlatformsByIssuer(deps.db, c.issuer)).filter((p) => p.joinedPlatformId === null);
  if (known.length) {
    const names = known.map((p) => `"${p.name}" (platform ${p.id})`).join(', ');
    throw Conflict(
      `The LMS ${c.issuer} is already registered as ${names}. To add this registration to it (same courses, people, queue and budgets), use a link made for that: on the platform's "LMS registrations" page, or npm run lti -- invite --join <platform id>.`,
    );
  }
}

async function registerFromConfiguration(deps: DynamicRegistrationDeps, invite: InviteRow, configUrl: string, registrationToken: string | undefined) {
  const config = openIdConfiguration.safeParse(await callLms(deps, configUrl, {}));
  if (!config.success) throw new HttpError(502, 'platform_error', 'The LMS configuration is missing required fields (issuer, endpoints, jwks_uri, registration_endpoint).');
  const c = config.data;
  await checkConfiguration(deps, invite, configUrl, c);
  const answer = registrationResponse.safeParse(
    await callLms(deps, c.registration_endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(registrationToken ? { authorization: `Bearer ${registrationToken}` } : {}) },
      body: JSON.stringify(toolRegistrationRequest(deps.toolUrl)),
    }),
  );
  if (!answer.success) throw new HttpError(502, 'platform_error', 'The LMS did not answer the registration with a client id.');
  const deploymentId = answer.data['https://purl.imsglobal.org/spec/lti-tool-configuration']?.deployment_id;
  if (!deploymentId) throw new HttpError(502, 'platform_error', 'The LMS did not assign a deployment id; register the tool manually instead.');
  const product = c['https://purl.imsglobal.org/spec/lti-platform-configuration']?.product_family_code ?? 'LMS';
  const registered = await registerPlatform(
    deps,
    {
      issuer: c.issuer,
      clientId: answer.data.client_id,
      name: invite.note || `${product} (${new URL(c.issuer).host})`,
      authenticationEndpoint: c.authorization_endpoint,
      accesstokenEndpoint: c.token_endpoint,
      authorizationServer: c.authorization_server,
      jwksUrl: c.jwks_uri,
      deploymentIds: [deploymentId],
    },
    `dynamic registration (invite ${invite.id} by ${invite.createdBy})`,
    // The link's maker decided what a second client of their LMS becomes when they made it.
    { replace: false, join: invite.joinPlatformId ?? undefined, separate: invite.joinPlatformId === null },
  );
  const joined = registered.platform.joinedPlatformId === null ? null : await findPlatformById(deps.db, registered.platform.joinedPlatformId);
  return { platform: registered.platform, joined, deploymentId };
}

/**
 * GET /lti/dynamic-registration/:token?openid_configuration=…&registration_token=… — the LMS opens this in a
 * window or frame. The link is spent first (it works once even if the registration then fails); what happened is
 * recorded on it and in the audit log of the platform that made it.
 */
export function dynamicRegistrationHandler(deps: DynamicRegistrationDeps) {
  return async (req: Request, res: Response, next: NextFunction): Promise<void> => {
    try {
      const token = String(req.params.token ?? '');
      const configUrl = typeof req.query.openid_configuration === 'string' ? req.query.openid_configuration : '';
      const registrationToken = typeof req.query.registration_token === 'string' ? req.query.registration_token : undefined;
      checkConfigurationUrl(configUrl, deps.outbound);
      const invite = await spendInvite(deps.db, hash(token));
      if (!invite) throw new HttpError(403, 'invalid_invite', 'This registration link is unknown, expired or already used. Ask your llm-assess administrator for a new one.');
      let registered;
      try {
        registered = await registerFromConfiguration(deps, invite, configUrl, registrationToken);
      } catch (err) {
        const message = err instanceof HttpError ? err.message : 'The registration failed on our side.';
        await recordInviteOutcome(deps.db, invite.id, `Refused: ${message}`);
        await recordAudit(deps.db, { platformId: invite.createdByPlatformId, actorKind: 'system', action: 'platform.dynamic_registration_refused', entityType: 'registration_invite', entityId: invite.id, details: { reason: message } });
        throw err;
      }
      const { platform, joined } = registered;
      const outcome = joined
        ? `Added client ${platform.clientId} to ${joined.name}: its launches open the same courses.`
        : `Registered ${platform.name} (client ${platform.clientId}) as a platform of its own.`;
      await recordInviteOutcome(deps.db, invite.id, outcome, platform.id);
      await recordAudit(deps.db, { platformId: joined?.id ?? platform.id, actorKind: 'system', action: 'platform.dynamic_registration', entityType: 'platform', entityId: platform.id, details: { invite: invite.id, joined: joined?.id ?? null } });
      render(req, res, 'pages/registration/complete', { title: 'Registration complete', platformName: joined?.name ?? platform.name, joined: Boolean(joined), deploymentId: registered.deploymentId });
    } catch (err) {
      next(err);
    }
  };
}
