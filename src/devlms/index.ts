import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Express } from 'express';
import type pg from 'pg';
import { z } from 'zod';
import { createDevLmsApp } from './app.js';
import { endpointsFor, type DevLmsContext, type ToolUrls } from './context.js';
import { createPlatformKey, loadOrCreatePlatformKey, loadOrCreateSecret } from './db/keys.repository.js';
import { withTransaction } from './db/queryable.js';
import { ensureSchema } from './db/schema.js';
import { Faults, type AreaFault, type FaultArea, type FaultsInput } from './faults.js';
import { ToolKeys } from './lti/tool-keys.js';
import { seedDevLms } from './seed.js';
import type { MailCatcher } from './mail/catcher.js';
import { toolRegistrationOf, type ToolRegistration } from './tool-registration.js';

export { SEED } from './seed.js';
export { startMailCatcher, type CaughtMail, type MailCatcher } from './mail/catcher.js';
export type { FaultsInput } from './faults.js';
export type { ToolUrls } from './context.js';
export { platformInputOf, type PlatformRegistrationInput, type ToolRegistration } from './tool-registration.js';

export interface DevLmsOptions {
  /** The dev LMS keeps its tables in schema `devlms` of this database. The caller owns (and ends) the pool. */
  pool: pg.Pool;
  /** Its own public base URL, e.g. http://127.0.0.1:4000 (the issuer too, unless `issuer` is given). */
  url: string;
  /** The tool's base URL, e.g. http://localhost:3000: the seeded registration's URLs derive from it. */
  toolUrl: string;
  issuer?: string;
  /** Overrides of the seeded tool's URLs (defaults: ${toolUrl}/lti/login, /lti/launch, /lti/keys, /lti/launch). */
  tool?: Partial<ToolUrls>;
  /** Mounts /__test/* and /__faults (tests only; the demo leaves it off). */
  testHooks?: boolean;
  /** Seed on creation (default true; seeding is idempotent). */
  seed?: boolean;
  /** How long a tool's fetched JWKS is trusted (default 60 s). */
  toolJwksCacheMs?: number;
  /** Timeout of a tool JWKS fetch (default 3 s). */
  toolJwksTimeoutMs?: number;
  /** Where unexpected errors (answered as a bare 500) are reported; default console.error. */
  onError?: (err: unknown) => void;
  /** A running mail catcher (`startMailCatcher`) whose messages /mail shows; the caller owns (and closes) it. */
  mail?: MailCatcher;
}

export interface DevLms {
  app: Express;
  url: string;
  issuer: string;
  /** Idempotent: creates (or brings up to date) the course, people, tasks and the tool registration. */
  seed(): Promise<void>;
  toolRegistration(): ToolRegistration;
  /** Replaces the injected faults, e.g. `{ ags: { failNext: 2, status: 500 } }`; `{}` clears them. */
  setFaults(faults: FaultsInput): void;
  faults(): Partial<Record<FaultArea, AreaFault>>;
  /** Score posts refused by the `scoreRate` limit since it was set. */
  scoresRateLimited(): number;
  /** Starts signing with a new key (the old one stays in the JWKS); returns the new kid. */
  rotateKey(): Promise<string>;
  /** Releases what the dev LMS holds (not the pool, which the caller owns). */
  close(): Promise<void>;
}

const baseUrl = z
  .url({ protocol: /^https?$/, error: 'must be an http(s) URL' })
  .transform((u) => u.replace(/\/+$/, ''));

// Serialises start-up across processes sharing a database (schema creation, first key, seed).
const STARTUP_LOCK = 0x6465766c; // "devl"

function toolUrlsFrom(toolUrl: string, overrides: Partial<ToolUrls> = {}): ToolUrls {
  const launchUrl = overrides.launchUrl ?? `${toolUrl}/lti/launch`;
  const deepLinkUrl = overrides.deepLinkUrl ?? launchUrl;
  return {
    loginUrl: overrides.loginUrl ?? `${toolUrl}/lti/login`,
    launchUrl,
    jwksUrl: overrides.jwksUrl ?? `${toolUrl}/lti/keys`,
    deepLinkUrl,
    // ltijs sends the target_link_uri without its query as redirect_uri (trap 7): register those.
    redirectUris: overrides.redirectUris ?? [...new Set([launchUrl, deepLinkUrl].map((u) => u.split('?')[0]!))],
  };
}

/** The instance's shared state: its URLs, its tables made ready, its key and secret (created on first start). */
async function openContext(options: DevLmsOptions): Promise<DevLmsContext> {
  const url = baseUrl.parse(options.url);
  const issuer = options.issuer ?? url;
  // Both URLs are checked before anything is written.
  const tool = toolUrlsFrom(baseUrl.parse(options.toolUrl), options.tool);
  const { key, secret } = await withTransaction(options.pool, async (tx) => {
    await tx.query('select pg_advisory_xact_lock($1)', [STARTUP_LOCK]);
    await ensureSchema(tx);
    return { key: await loadOrCreatePlatformKey(tx), secret: await loadOrCreateSecret(tx, 'signed-state') };
  });
  return {
    pool: options.pool,
    url,
    issuer,
    tool,
    platform: {
      guid: createHash('sha256').update(issuer).digest('hex').slice(0, 32),
      name: 'llm-assess Dev LMS',
      productFamilyCode: 'llm-assess-devlms',
      version: '1.0.0',
    },
    key,
    secret,
    toolKeys: new ToolKeys({ cacheMaxAgeMs: options.toolJwksCacheMs ?? 60_000, timeoutMs: options.toolJwksTimeoutMs ?? 3_000 }),
    faults: new Faults(),
    endpoints: endpointsFor(url),
  };
}

/** Creates a dev LMS on the given pool: tables, platform key and (by default) the seed, then the Express app. */
export async function createDevLms(options: DevLmsOptions): Promise<DevLms> {
  const ctx = await openContext(options);
  const seed = () =>
    withTransaction(options.pool, async (tx) => {
      await tx.query('select pg_advisory_xact_lock($1)', [STARTUP_LOCK]);
      await seedDevLms(tx, ctx.tool);
    });
  if (options.seed !== false) await seed();

  return {
    app: createDevLmsApp(ctx, {
      testHooks: options.testHooks === true,
      mail: options.mail ?? null,
      onError: options.onError ?? ((err) => console.error('devlms: unexpected error', err)),
    }),
    url: ctx.url,
    issuer: ctx.issuer,
    seed,
    toolRegistration: () => toolRegistrationOf(ctx),
    setFaults: (faults) => ctx.faults.set(faults),
    faults: () => ctx.faults.current(),
    scoresRateLimited: () => ctx.faults.rateLimited,
    rotateKey: async () => {
      ctx.key = await createPlatformKey(ctx.pool);
      return ctx.key.kid;
    },
    // Nothing to release today (no timers; the pool is the caller's); kept so callers shut down in one way.
    close: async () => {},
  };
}

export interface StartDevLmsOptions extends Omit<DevLmsOptions, 'url'> {
  /** Default: http://<host>:<bound port>. Give it when the public URL differs (proxy, 0.0.0.0). */
  url?: string;
  /** Default 0: an ephemeral port. */
  port?: number;
  /** Default 127.0.0.1 (the tool runs on localhost, so the iframe is cross-site: ltijs trap 11). */
  host?: string;
}

export interface RunningDevLms {
  url: string;
  devlms: DevLms;
  close(): Promise<void>;
}

/** Starts a dev LMS on a real port. Prints nothing: the caller prints URLs. */
export async function startDevLms(options: StartDevLmsOptions): Promise<RunningDevLms> {
  const host = options.host ?? '127.0.0.1';
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const url = options.url ?? `http://${host}:${port}`;
  let devlms: DevLms;
  try {
    devlms = await createDevLms({ ...options, url });
  } catch (err) {
    server.close();
    throw err;
  }
  server.on('request', devlms.app);
  return {
    url: devlms.url,
    devlms,
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Keep-alive connections (browsers, fetch) would hold close() open.
        server.closeAllConnections();
      });
      await devlms.close();
    },
  };
}
