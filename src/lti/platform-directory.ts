import type { AuthConfig, ProviderInstance } from 'ltijs';
import type { Db } from '../db/db.js';
import { findPlatform, findPlatformById, findPlatformsByIssuer, listDeploymentRows } from '../models/tenancy/platforms.repository.js';

export interface KnownPlatform {
  /** The tenant the launches land in: this registration's platform, or the one it was joined to. */
  id: number;
  /** This registration's own row (its client): whose token calls the LMS for what it launched. */
  registrationId: number;
  issuer: string;
  clientId: string;
  /** The tenant's name. */
  name: string;
  /** ltijs' id for the registration (the kid of the tool key pair it made for this platform). */
  ltijsPlatformId: string;
  active: boolean;
  authConfig: AuthConfig;
  authEndpoint: string;
  deployments: ReadonlySet<string>;
  /** The deployment whose courses a launch through this deployment opens (itself unless joined: `coursesOf`). */
  courseDeployment(deploymentId: string): string;
}

/**
 * Registered platforms as launches need them: our tenant row, ltijs' endpoints and keys config, and the
 * deployment allowlist, in one object cached for a few seconds. Every launch and every request reads it, and
 * registrations change rarely; an admin change in this process clears it at once, other processes within the TTL.
 */
export class PlatformDirectory {
  private cache = new Map<string, { value: KnownPlatform | null; at: number }>();

  constructor(
    private readonly db: Db,
    private readonly lti: ProviderInstance,
    private readonly ttlMs = 10_000,
  ) {}

  async get(issuer: string, clientId: string): Promise<KnownPlatform | null> {
    const key = `${issuer}\n${clientId}`;
    const hit = this.cache.get(key);
    if (hit && Date.now() - hit.at < this.ttlMs) return hit.value;
    const value = await this.load(issuer, clientId);
    this.cache.set(key, { value, at: Date.now() });
    return value;
  }

  /** The client ids registered for an issuer (a login without client_id is only unambiguous with one). */
  async clientIdsFor(issuer: string): Promise<string[]> {
    return (await findPlatformsByIssuer(this.db, issuer)).map((p) => p.clientId);
  }

  invalidate(): void {
    this.cache.clear();
  }

  private async load(issuer: string, clientId: string): Promise<KnownPlatform | null> {
    const row = await findPlatform(this.db, issuer, clientId);
    if (!row) return null;
    const platform = await this.lti.getPlatform(issuer, clientId);
    if (!platform) return null;
    const tenant = row.joinedPlatformId === null ? row : await findPlatformById(this.db, row.joinedPlatformId);
    if (!tenant) return null;
    const deployments = await listDeploymentRows(this.db, row.id);
    const coursesOf = new Map(deployments.map((d) => [d.deploymentId, d.coursesOf ?? d.deploymentId]));
    return {
      id: tenant.id,
      registrationId: row.id,
      issuer,
      clientId,
      name: tenant.name,
      ltijsPlatformId: row.ltijsPlatformId,
      // A joined registration stops with its platform: deactivating the platform ends all its clients' sessions.
      active: row.active && tenant.active,
      authConfig: await platform.platformAuthConfig(),
      authEndpoint: await platform.platformAuthEndpoint(),
      deployments: new Set(coursesOf.keys()),
      courseDeployment: (deploymentId) => coursesOf.get(deploymentId) ?? deploymentId,
    };
  }
}
