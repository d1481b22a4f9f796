import type { ProviderInstance } from 'ltijs';
import { z } from 'zod';
import type { Db, RootDb } from '../db/db.js';
import { recordAudit } from '../models/audit/audit.repository.js';
import {
  addDeployment,
  findPlatform,
  findPlatformById,
  findPlatformsByIssuer,
  joinRegistration,
  listDeploymentRows,
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
  /**
   * What a new client of an LMS already registered becomes — an administrator's decision, never a default: another
   * client of that platform (`join`: its id), or a platform of its own (`separate`). Without either, a second
   * client of a known issuer is refused with the choice spelled out.
   */
  join?: number;
  separate?: boolean;
}

/** Where a new client goes: a platform of its own (null), or the one it joins, with the deployment whose courses it opens. */
async function joinTarget(tx: Db, issuer: string, options: RegisterOptions): Promise<{ platformId: number; coursesOf: string | null } | null> {
  const known = (await findPlatformsByIssuer(tx, issuer)).filter((p) => p.joinedPlatformId === null);
  if (options.join === undefined) {
    if (known.length && !options.separate) {
      const list = known.map((p) => `"${p.name}" (platform ${p.id})`).join(', ');
      throw Conflict(
        `The LMS ${issuer} is already registered here as ${list}. Decide what this new client is: another client of that platform (same courses, people, queue and budgets: --join <platform id>), or a platform of its own (--separate).`,
      );
    }
    return null;
  }
  const target = await requirePlatformById({ db: tx }, options.join);
  if (target.issuer !== issuer) throw Conflict(`Platform ${target.id} is the LMS ${target.issuer}; a client of ${issuer} cannot join it.`);
  const [first] = await listDeploymentRows(tx, target.id);
  return { platformId: target.id, coursesOf: first?.deploymentId ?? null };
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
    const existing = await findPlatform(tx, input.issuer, input.clientId);
    const existed = Boolean(existing) || Boolean(await deps.lti.getPlatform(input.issuer, input.clientId));
    if (existed && !options.replace) {
      throw Conflict(`The LMS ${input.issuer} is already registered with client id ${input.clientId}; its registration was not changed.`);
    }
    // An update keeps what the registration is (a platform, or a client joined to one).
    const joins = existing ? null : await joinTarget(tx, input.issuer, options);
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
    if (joins) await joinRegistration(tx, row.id, joins.platformId);
    for (const d of input.deploymentIds) await addDeployment(tx, row.id, d, { coursesOf: joins?.coursesOf });
    await recordAudit(tx, {
      platformId: joins?.platformId ?? row.id,
      actorKind: 'system',
      action: existed ? 'platform.updated' : joins ? 'platform.client_joined' : 'platform.registered',
      entityType: 'platform',
      entityId: row.id,
      details: { by: actor, issuer: input.issuer, clientId: input.clientId, deployments: input.deploymentIds, ...(joins ? { joined: joins.platformId } : {}) },
    });
    return { platform: { ...row, joinedPlatformId: joins?.platformId ?? row.joinedPlatformId }, existed };
  });
  deps.platforms.invalidate();
  return { platform, deployments: await listDeployments(deps.db, platform.id), created: !existed };
}

export async function requirePlatform(deps: Pick<RegistrationDeps, 'db'>, issuer: string, clientId: string): Promise<PlatformRow> {
  const platform = await findPlatform(deps.db, issuer, clientId);
  if (!platform) throw NotFound(`The platform ${issuer} (client ${clientId})`);
  return platform;
}

/** A platform a new client may join: one that is not itself a client of another. */
export async function requirePlatformById(deps: { db: Db }, id: number): Promise<PlatformRow> {
  const platform = await findPlatformById(deps.db, id);
  if (!platform) throw NotFound(`Platform ${id}`);
  if (platform.joinedPlatformId !== null) throw Conflict(`Platform ${id} is itself a client of platform ${platform.joinedPlatformId}; join that one.`);
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
