import { execFileSync, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { freePort } from './ports.js';

/**
 * A PostgreSQL that is not the embedded one: Debian's `postgresql` package (installed by `npm test`'s first step,
 * scripts/ensure-postgres.mjs, when missing), a cluster of its own in a temporary folder, password authentication
 * over TCP as production uses. Run as the `postgres` user when we are root (the server refuses to run as root).
 */
export interface StandalonePostgres {
  /** The server's URL for a database (created by `createDatabase`). */
  urlFor(database: string): string;
  createDatabase(name: string): Promise<void>;
  version: string;
  stop(): Promise<void>;
}

const USER = 'llm_assess';
const PASSWORD = 'standalone-test-password';

/** The newest Debian PostgreSQL's bin folder, or null. */
export function debianPostgresBin(): string | null {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return null;
  const versions = readdirSync(root).filter((v) => existsSync(path.join(root, v, 'bin', 'initdb'))).sort((a, b) => Number(b) - Number(a));
  return versions.length ? path.join(root, versions[0]!, 'bin') : null;
}

export async function startStandalonePostgres(): Promise<StandalonePostgres> {
  const bin = debianPostgresBin();
  if (!bin) throw new Error("Debian's postgresql is not installed (npm test installs it: node scripts/ensure-postgres.mjs)");
  const asRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  const owner = asRoot ? { uid: Number(execFileSync('id', ['-u', 'postgres']).toString().trim()), gid: Number(execFileSync('id', ['-g', 'postgres']).toString().trim()) } : null;
  const dir = mkdtempSync(path.join(tmpdir(), 'llm-assess-pg-'));
  const data = path.join(dir, 'data');
  const pwfile = path.join(dir, 'pw');
  writeFileSync(pwfile, PASSWORD);
  if (owner) {
    chownSync(dir, owner.uid, owner.gid);
    chownSync(pwfile, owner.uid, owner.gid);
  }
  const run = (cmd: string, args: string[]) => {
    const r = spawnSync(path.join(bin, cmd), args, { ...(owner ?? {}), cwd: dir, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`${cmd} failed (${r.status}): ${r.stderr || r.stdout}`);
    return r.stdout;
  };
  run('initdb', ['-D', data, '-U', USER, `--pwfile=${pwfile}`, '--auth=scram-sha-256', '-E', 'UTF8', '--no-sync', '--locale=C']);
  const port = await freePort();
  run('pg_ctl', ['-D', data, '-l', path.join(dir, 'server.log'), '-w', '-t', '60', '-o', `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200`, 'start']);
  const urlFor = (database: string) => `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/${database}`;
  const admin = new pg.Pool({ connectionString: urlFor('postgres'), max: 1 });
  const version = (await admin.query<{ server_version: string }>('show server_version')).rows[0]!.server_version;
  return {
    urlFor,
    version,
    async createDatabase(name) {
      await admin.query(`create database "${name.replace(/"/g, '')}"`);
    },
    async stop() {
      await admin.end();
      try {
        run('pg_ctl', ['-D', data, '-m', 'fast', '-w', 'stop']);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
