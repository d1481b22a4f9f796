import { createHash, randomBytes } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import { and, eq, gt, isNull, sql } from 'drizzle-orm';
import { z } from 'zod';
import type { RootDb } from '../db/db.js';
import { registrationInvites } from '../models/tenancy/tenancy.table.js';
import { recordAudit } from '../models/audit/audit.repository.js';
import { BadRequest, HttpError } from '../http/errors.js';
import { render } from '../http/render.js';
import { registerPlatform, type RegistrationDeps } from './registration.service.js';
import { LTI_ROUTES } from './provider.js';

export const INVITE_TTL_MS = 24 * 60 * 60 * 1000;
export const DYNAMIC_REGISTRATION_PATH = '/lti/dynamic-registration';

const hash = (token: string) => createHash('sha256').update(token).digest('hex');

/**
 * A one-time link for LTI Dynamic Registration. ltijs' own /register fetches any URL it is given (an SSRF)
 * and registers whatever answers; ours only works with a link an administrator made, once, for a day.
 */
export async function createRegistrationInvite(db: RootDb, toolUrl: string, createdBy: string, note?: string): Promise<{ url: string; expiresAt: Date }> {
  const token = randomBytes(24).toString('base64url');
  const expiresAt = new Date(Date.now() + INVITE_TTL_MS);
  await db.insert(registrationInvites).values({ tokenHash: hash(token), note: note?.slice(0, 200) || null, createdBy, expiresAt });
  return { url: `${toolUrl}${DYNAMIC_REGISTRATION_PATH}/${token}`, expiresAt };
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

const registrationResponse = z.object({
  client_id: z.string().min(1),
  'https://purl.imsglobal.org/spec/lti-tool-configuration': z.object({ deployment_id: z.string().min(1).optional() }).passthrough().optional(),
});

export interface DynamicRegistrationDeps extends RegistrationDeps {
  toolUrl: string;
  fetchTimeoutMs: number;
}

async function fetchJson(url: string, init: RequestInit, timeoutMs: number, what: string): Promise<unknown> {
  let res: globalThis.Response;
  try {
    res = await fetch(url, { ...init, redirect: 'error', signal: AbortSignal.timeout(timeoutMs) });
  } catch (err) {
    throw new HttpError(502, 'platform_unreachable', `Could not reach the LMS ${what} at ${url}: ${err instanceof Error ? err.message : String(err)}.`);
  }
  const text = await res.text();
  if (!res.ok) throw new HttpError(502, 'platform_error', `The LMS ${what} answered HTTP ${res.status}.`);
  if (text.length > 256 * 1024) throw new HttpError(502, 'platform_error', `The LMS ${what} answer is too large.`);
  try {
    return JSON.parse(text);
  } catch {
    throw new HttpError(502, 'platform_error', `The LMS ${what} did not answer JSON.`);
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

/**
 * GET /lti/dynamic-registration/:token?openid_configuration=…&registration_token=… — the LMS opens this in a
 * window or frame. The invite is spent first (a link works once even if the registration then fails), the
 * configuration must come from under its issuer's URL (spec 3.5.1), and the deployment the LMS assigns joins
 * the allowlist (ltijs drops it).
 */
export function dynamicRegistrationHandler(deps: DynamicRegistrationDeps) {
  return async (req: Request, res: Response, next: NextFunction): Promise<void> => {
    try {
      const token = String(req.params.token ?? '');
      const configUrl = typeof req.query.openid_configuration === 'string' ? req.query.openid_configuration : '';
      const registrationToken = typeof req.query.registration_token === 'string' ? req.query.registration_token : undefined;
      if (!configUrl) throw BadRequest('The LMS did not send its openid_configuration URL.');
      let parsedConfigUrl: URL;
      try {
        parsedConfigUrl = new URL(configUrl);
      } catch {
        throw BadRequest('The openid_configuration parameter is not a URL.');
      }
      const local = ['localhost', '127.0.0.1', '[::1]'].includes(parsedConfigUrl.hostname);
      if (parsedConfigUrl.protocol !== 'https:' && !(deps.allowInsecureLocalhost && local && parsedConfigUrl.protocol === 'http:')) {
        throw BadRequest('The openid_configuration URL must use https.');
      }
      if (parsedConfigUrl.username || parsedConfigUrl.password) throw BadRequest('The openid_configuration URL must not carry credentials.');

      const [invite] = await deps.db
        .update(registrationInvites)
        .set({ usedAt: sql`now()` })
        .where(and(eq(registrationInvites.tokenHash, hash(token)), isNull(registrationInvites.usedAt), gt(registrationInvites.expiresAt, sql`now()`)))
        .returning();
      if (!invite) throw new HttpError(403, 'invalid_invite', 'This registration link is unknown, expired or already used. Ask your llm-assess administrator for a new one.');

      const config = openIdConfiguration.safeParse(await fetchJson(configUrl, { headers: { accept: 'application/json' } }, deps.fetchTimeoutMs, 'configuration'));
      if (!config.success) throw new HttpError(502, 'platform_error', 'The LMS configuration is missing required fields (issuer, endpoints, jwks_uri, registration_endpoint).');
      const c = config.data;
      if (!configUrl.startsWith(c.issuer)) {
        throw new HttpError(400, 'issuer_mismatch', `The LMS configuration names issuer ${c.issuer}, but was not served from under that URL.`);
      }
      const answer = registrationResponse.safeParse(
        await fetchJson(
          c.registration_endpoint,
          {
            method: 'POST',
            headers: { 'content-type': 'application/json', accept: 'application/json', ...(registrationToken ? { authorization: `Bearer ${registrationToken}` } : {}) },
            body: JSON.stringify(toolRegistrationRequest(deps.toolUrl)),
          },
          deps.fetchTimeoutMs,
          'registration endpoint',
        ),
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
      );
      await deps.db.update(registrationInvites).set({ platformId: registered.platform.id }).where(eq(registrationInvites.id, invite.id));
      await recordAudit(deps.db, { platformId: registered.platform.id, actorKind: 'system', action: 'platform.dynamic_registration', entityType: 'platform', entityId: registered.platform.id, details: { invite: invite.id } });
      render(req, res, 'pages/registration/complete', { title: 'Registration complete', platformName: registered.platform.name, deploymentId });
    } catch (err) {
      next(err);
    }
  };
}
