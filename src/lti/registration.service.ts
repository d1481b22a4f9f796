import type { ProviderInstance } from 'ltijs';
import { z } from 'zod';
import type { RootDb } from '../db/db.js';
import { recordAudit } from '../models/audit/audit.repository.js';
import {
  addDeployment,
  findPlatform,
  listDeployments,
  listPlatforms,
  removeDeployment,
  setPlatformActive,
  lockIssuer,
  upsertPlatform,
  type PlatformRow,
} from '../models/tenancy/platforms.repository.js';
import { Conflict, Invalid, NotFound } from '../errors.js';
import type { PlatformDirectory } from './platform-directory.js';
import { fieldsOf } from '../validation.js';

export interface RegistrationDeps {
  db: RootDb;
  lti: ProviderInstance;
  platforms: PlatformDirectory;
  /** Outside production, http:// endpoints on localhost are allowed (the dev LMS). */
  allowInsecureLocalhost: boolean;
}

function endpoint(allowInsecureLocalhost: boolean) {
  return z
    .string()
    .url('must be a URL')
    .refine((u) => {
      // zod runs refinements even after .url() failed: an unparseable value is reported once, by .url().
      if (!URL.canParse(u)) return true;
      const url = new URL(u);
      if (url.protocol === 'https:') return true;
      return allowInsecureLocalhost && url.protocol === 'http:' && ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname);
    }, 'must be an https:// URL');
}

export function platformInputSchema(allowInsecureLocalhost: boolean) {
  const url = endpoint(allowInsecureLocalhost);
  return z.object({
    issuer: url,
    clientId: z.string().trim().min(1, 'required').max(255),
    name: z.string().trim().min(1, 'required').max(200),
    authenticationEndpoint: url,
    accesstokenEndpoint: url,
    authorizationServer: url.optional(),
    jwksUrl: url,
    deploymentIds: z.array(z.string().trim().min(1).max(255)).min(1, 'at least one deployment id is required'),
  });
}

export interface RegisteredPlatform {
  platform: PlatformRow;
  deployments: string[];
  created: boolean;
}

export interface RegisterOptions {
  /**
   * Whether an existing registration of the same issuer and client may be changed. Only an operator's explicit
   * action does that (`npm run lti -- register --update`); dynamic registration never does.
   */
  replace: boolean;
}

/**
 * Registers an LMS: ltijs' record with the JWKS to verify launches and a key pair for our service calls, our
 * tenant row, and the deployment allowlist. An existing issuer + client is refused (409) unless `replace` is set:
 * registering must never rewrite another tenant's endpoints or keys. The check, ltijs' write and ours happen
 * under one lock per issuer, so two registrations of one LMS cannot both pass the check.
 */
export async function registerPlatform(deps: RegistrationDeps, raw: unknown, actor: string, options: RegisterOptions = { replace: false }): Promise<RegisteredPlatform> {
  const parsed = platformInputSchema(deps.allowInsecureLocalhost).safeParse(raw);
  if (!parsed.success) {
    const fields = fieldsOf(parsed.error);
    throw Invalid(fields, `The platform registration is invalid: ${Object.entries(fields).map(([k, v]) => `${k} ${v}`).join('; ')}.`);
  }
  const input = parsed.data;
  const { platform, existed } = await deps.db.transaction(async (tx) => {
    await lockIssuer(tx, input.issuer);
    const existed = Boolean(await findPlatform(tx, input.issuer, input.clientId)) || Boolean(await deps.lti.getPlatform(input.issuer, input.clientId));
    if (existed && !options.replace) {
      throw Conflict(`The LMS ${input.issuer} is already registered with client id ${input.clientId}; its registration was not changed.`);
    }
    const ltijsPlatform = await deps.lti.registerPlatform({
      url: input.issuer,
      name: input.name,
      clientId: input.clientId,
      authenticationEndpoint: input.authenticationEndpoint,
      accesstokenEndpoint: input.accesstokenEndpoint,
      authorizationServer: input.authorizationServer,
      authConfig: { method: 'JWK_SET', key: input.jwksUrl },
    });
    const row = await upsertPlatform(tx, {
      issuer: input.issuer,
      clientId: input.clientId,
      name: input.name,
      ltijsPlatformId: await ltijsPlatform.platformKid(),
    });
    for (const d of input.deploymentIds) await addDeployment(tx, row.id, d);
    await recordAudit(tx, {
      platformId: row.id,
      actorKind: 'system',
      action: existed ? 'platform.updated' : 'platform.registered',
      entityType: 'platform',
      entityId: row.id,
      details: { by: actor, issuer: input.issuer, clientId: input.clientId, deployments: input.deploymentIds },
    });
    return { platform: row, existed };
  });
  deps.platforms.invalidate();
  return { platform, deployments: await listDeployments(deps.db, platform.id), created: !existed };
}

export async function requirePlatform(deps: Pick<RegistrationDeps, 'db'>, issuer: string, clientId: string): Promise<PlatformRow> {
  const platform = await findPlatform(deps.db, issuer, clientId);
  if (!platform) throw NotFound(`The platform ${issuer} (client ${clientId})`);
  return platform;
}

const deploymentId = z.string().trim().min(1, 'A deployment id is required.').max(255, 'A deployment id has at most 255 characters.');

export async function allowDeployment(deps: Pick<RegistrationDeps, 'db' | 'platforms'>, platformId: number, rawDeploymentId: unknown, actor: string): Promise<boolean> {
  const parsed = deploymentId.safeParse(rawDeploymentId);
  if (!parsed.success) throw Invalid({ deploymentId: parsed.error.issues[0]!.message });
  const added = await deps.db.transaction(async (tx) => {
    const added = await addDeployment(tx, platformId, parsed.data);
    if (added) {
      await recordAudit(tx, { platformId, actorKind: 'system', action: 'deployment.allowed', entityType: 'platform', entityId: platformId, details: { by: actor, deploymentId: parsed.data } });
    }
    return added;
  });
  deps.platforms.invalidate();
  return added;
}

export async function revokeDeployment(deps: Pick<RegistrationDeps, 'db' | 'platforms'>, platformId: number, rawDeploymentId: unknown, actor: string): Promise<void> {
  const parsed = deploymentId.safeParse(rawDeploymentId);
  if (!parsed.success) throw Invalid({ deploymentId: parsed.error.issues[0]!.message });
  const remaining = await listDeployments(deps.db, platformId);
  if (!remaining.includes(parsed.data)) throw NotFound(`Deployment "${parsed.data}"`);
  if (remaining.length === 1) throw Conflict('This is the last allowed deployment of the platform; deactivate the platform instead.');
  await deps.db.transaction(async (tx) => {
    await removeDeployment(tx, platformId, parsed.data);
    await recordAudit(tx, { platformId, actorKind: 'system', action: 'deployment.revoked', entityType: 'platform', entityId: platformId, details: { by: actor, deploymentId: parsed.data } });
  });
  deps.platforms.invalidate();
}

export async function setActive(deps: Pick<RegistrationDeps, 'db' | 'platforms'>, platformId: number, active: boolean, actor: string): Promise<void> {
  await deps.db.transaction(async (tx) => {
    await setPlatformActive(tx, platformId, active);
    await recordAudit(tx, { platformId, actorKind: 'system', action: active ? 'platform.activated' : 'platform.deactivated', entityType: 'platform', entityId: platformId, details: { by: actor } });
  });
  deps.platforms.invalidate();
}

export async function describePlatforms(db: RootDb): Promise<Array<PlatformRow & { deployments: string[] }>> {
  const rows = await listPlatforms(db);
  return Promise.all(rows.map(async (p) => ({ ...p, deployments: await listDeployments(db, p.id) })));
}
