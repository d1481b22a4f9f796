import type { AuthConfig, ProviderInstance } from 'ltijs';
import type { Db } from '../db/db.js';
import { findPlatform, findPlatformsByIssuer, listDeployments } from '../models/tenancy/platforms.repository.js';

export interface KnownPlatform {
  id: number;
  issuer: string;
  clientId: string;
  name: string;
  /** ltijs' id for the registration (the kid of the tool key pair it made for this platform). */
  ltijsPlatformId: string;
  active: boolean;
  authConfig: AuthConfig;
  authEndpoint: string;
  deployments: ReadonlySet<string>;
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
    return {
      id: row.id,
      issuer,
      clientId,
      name: row.name,
      ltijsPlatformId: row.ltijsPlatformId,
      active: row.active,
      authConfig: await platform.platformAuthConfig(),
      authEndpoint: await platform.platformAuthEndpoint(),
      deployments: new Set(await listDeployments(this.db, row.id)),
    };
  }
}
