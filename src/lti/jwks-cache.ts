import { importJWK, importSPKI, type JWK, type CryptoKey, type KeyObject } from 'jose';
import { z } from 'zod';
import type { AuthConfig } from 'ltijs';
import { fetchJsonUnder, OutboundError, type OutboundPolicy } from '../net/outbound.js';

type Key = CryptoKey | KeyObject | Uint8Array;

const jwksSchema = z.object({ keys: z.array(z.object({ kty: z.string(), kid: z.string().optional() }).passthrough()) });

interface Entry {
  keys: Map<string, Key>;
  fetchedAt: number;
  inflight?: Promise<Entry>;
}

export class KeyNotFoundError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KeyNotFoundError';
  }
}

export interface JwksCacheOptions {
  ttlMs: number;
  timeoutMs: number;
  /** An unknown kid triggers a refetch at most this often per URL, so forged kids cannot make us hammer an LMS. */
  minRefetchMs?: number;
  maxBytes?: number;
  /**
   * Where key sets may be fetched from (the outbound rules of dynamic registration: https and no private or
   * link-local address in production); by default anywhere, for a cache made outside the app.
   */
  outbound?: OutboundPolicy;
}

const ANYWHERE: OutboundPolicy = { requireHttps: false, allowLoopback: true, allowPrivate: true };

/**
 * Platform signing keys, cached (trap 6: ltijs fetches the JWKS on every launch, with no timeout, so a slow LMS
 * hangs every launch). Fresh keys come from the cache; a stale entry is refreshed; an unknown kid refetches once
 * (key rotation); when the LMS is unreachable, keys we already have keep working until it is back.
 */
const REASONS: Record<OutboundError['reason'], string> = {
  refused_url: 'an address llm-assess may not call',
  refused_address: 'an address llm-assess may not call',
  network: 'no answer in time',
  status: 'an error answer',
  too_large: 'too large',
  not_json: 'not JSON',
};

export class JwksCache {
  private entries = new Map<string, Entry>();
  private readonly minRefetchMs: number;
  private readonly maxBytes: number;
  fetches = 0;

  constructor(private readonly options: JwksCacheOptions) {
    this.minRefetchMs = options.minRefetchMs ?? 10_000;
    this.maxBytes = options.maxBytes ?? 512 * 1024;
  }

  /** The verification key for a token signed with `kid`, per the platform's auth configuration. */
  async keyFor(auth: AuthConfig, kid: string | undefined): Promise<Key> {
    if (auth.method === 'RSA_KEY') return importSPKI(auth.key, 'RS256');
    if (auth.method === 'JWK_KEY') {
      const jwk = (typeof auth.key === 'string' ? JSON.parse(auth.key) : auth.key) as JWK;
      return importJWK(jwk, 'RS256');
    }
    if (!kid) throw new KeyNotFoundError('The id_token has no key id (kid).');
    return this.keyFromSet(auth.key, kid);
  }

  private async keyFromSet(url: string, kid: string): Promise<Key> {
    const now = Date.now();
    let entry = this.entries.get(url);
    if (!entry || now - entry.fetchedAt > this.options.ttlMs) {
      entry = await this.refresh(url, entry);
    }
    let key = entry.keys.get(kid);
    if (!key && now - entry.fetchedAt >= this.minRefetchMs) {
      entry = await this.refresh(url, entry);
      key = entry.keys.get(kid);
    }
    if (!key) throw new KeyNotFoundError(`The platform's key set has no key with id "${kid}".`);
    return key;
  }

  private async refresh(url: string, stale: Entry | undefined): Promise<Entry> {
    const current = this.entries.get(url);
    if (current?.inflight) return current.inflight;
    const inflight = this.fetchKeys(url)
      .then((keys) => {
        const entry: Entry = { keys, fetchedAt: Date.now() };
        this.entries.set(url, entry);
        return entry;
      })
      .catch((err: unknown) => {
        if (stale) {
          // Serve the keys we have rather than fail every launch while the LMS is unreachable.
          const entry: Entry = { keys: stale.keys, fetchedAt: Date.now() - this.options.ttlMs + this.minRefetchMs };
          this.entries.set(url, entry);
          return entry;
        }
        this.entries.delete(url);
        throw err;
      });
    this.entries.set(url, { keys: stale?.keys ?? new Map(), fetchedAt: stale?.fetchedAt ?? 0, inflight });
    return inflight;
  }

  private async fetchKeys(url: string): Promise<Map<string, Key>> {
    this.fetches += 1;
    let body: unknown;
    try {
      // The address connected to is checked, no redirect is followed: a registered key URL cannot be pointed at
      // the tool's own network later (DNS rebinding).
      body = await fetchJsonUnder(this.options.outbound ?? ANYWHERE, url, { timeoutMs: this.options.timeoutMs, maxBytes: this.maxBytes });
    } catch (err) {
      throw new KeyNotFoundError(`Could not fetch the platform's key set from ${url}${err instanceof OutboundError ? ` (${REASONS[err.reason]})` : ''}.`);
    }
    const parsed = jwksSchema.safeParse(body);
    if (!parsed.success) throw new KeyNotFoundError(`The platform's key set at ${url} is not a JWK set.`);
    const keys = new Map<string, Key>();
    for (const jwk of parsed.data.keys) {
      if (!jwk.kid || jwk.kty !== 'RSA') continue;
      try {
        keys.set(jwk.kid, await importJWK(jwk as JWK, 'RS256'));
      } catch {
        // One malformed key must not take the others down with it.
      }
    }
    return keys;
  }
}
