import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { startEmbeddedPostgres, type EmbeddedDatabase } from '../src/db/embedded.js';
import { stopLeftoverServer } from '../src/db/embedded-leftover.js';
import { freePort } from './helpers/ports.js';
import { until } from './helpers/until.js';

/**
 * `npm run demo` killed with SIGKILL leaves its PostgreSQL running. Real processes throughout: the server is
 * started by a child Node process (test/fixtures/embedded-server.ts), which the test kills. One data folder
 * serves every case (initdb is the slow part).
 */

interface ServerProcess {
  child: ChildProcess;
  output: () => string;
  exited: Promise<void>;
}

const children: ServerProcess[] = [];
const servers: EmbeddedDatabase[] = [];
const strays: number[] = [];

function startServerProcess(dir: string, port: number): ServerProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/fixtures/embedded-server.ts', dir, String(port)], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const proc = { child, output: () => out, exited };
  children.push(proc);
  return proc;
}

async function ready(proc: ServerProcess): Promise<void> {
  const line = await until('the server process to report', async () => proc.output().match(/^(READY|FAILED.*)$/m)?.[1], 60_000);
  if (line !== 'READY') throw new Error(line);
}

async function query<T extends pg.QueryResultRow>(port: number, sql: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: `postgres://postgres:postgres@127.0.0.1:${port}/postgres` });
  await client.connect();
  try {
    return (await client.query<T>(sql)).rows;
  } finally {
    await client.end();
  }
}

function pidInFile(dir: string): number {
  return Number(readFileSync(path.join(dir, 'postmaster.pid'), 'utf8').split('\n')[0]);
}

function isRunning(pid: number): boolean {
  try {
    const state = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.[0];
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

/** Every postmaster (not backend) serving `dir`, from /proc. */
function postmastersOf(dir: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let argv: string[];
    try {
      argv = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
    } catch {
      continue;
    }
    if (path.basename(argv[0] ?? '') === 'postgres' && argv[argv.indexOf('-D') + 1] === dir && isRunning(Number(entry))) found.push(Number(entry));
  }
  return found;
}

/** A process id that was just in use and is now free. */
function deadPid(): number {
  const pid = spawnSync(process.execPath, ['-e', '']).pid;
  expect(isRunning(pid)).toBe(false);
  return pid;
}

/** postmaster.pid as PostgreSQL writes it: pid, data folder, start time, port, socket folder, address, shared memory key, status. */
function writePidFile(dir: string, pid: number, port: number): void {
  writeFileSync(path.join(dir, 'postmaster.pid'), [pid, dir, Math.floor(Date.now() / 1000), port, '', '127.0.0.1', '  1234567     98304', 'ready   ', ''].join('\n'));
}

describe('the embedded PostgreSQL after its process was killed', () => {
  let root: string;
  let dir: string;
  let port: number;
  let first: ServerProcess;

  beforeAll(async () => {
    root = mkdtempSync(path.join(tmpdir(), 'llm-assess-recovery-'));
    dir = path.join(root, 'pg');
    port = await freePort();
    first = startServerProcess(dir, port);
    await ready(first);
  }, 90_000);

  afterAll(async () => {
    for (const { child } of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await Promise.all(children.map((c) => c.exited));
    for (const server of servers) await server.stop().catch(() => {});
    for (const pid of strays) if (isRunning(pid)) process.kill(pid, 'SIGKILL');
    // A server whose process was killed and that a failed test did not stop.
    await stopLeftoverServer(dir).catch((err) => console.error(err));
    rmSync(root, { recursive: true, force: true });
  }, 60_000);

  it('leaves the server alone while the process that started it still runs', async () => {
    const pid = pidInFile(dir);
    await expect(startEmbeddedPostgres({ dir, port: await freePort() })).rejects.toThrow(
      `The embedded PostgreSQL server of ${dir} (pid ${pid}) belongs to a running process (pid ${first.child.pid}): is the demo or the tool already running?`,
    );
    expect(await query(port, 'select 1 as one')).toEqual([{ one: 1 }]);
  });

  it('lets the lti CLI work beside the running tool, on its server, and leaves that server running (issue 15)', async () => {
    // README's Moodle step: register while the demo runs. The CLI used to start its own server on the same folder.
    const env: Record<string, string> = {
      ...(process.env as Record<string, string>),
      NODE_ENV: 'test',
      LTI_KEY: randomBytes(32).toString('hex'),
      ENCRYPTION_KEY: randomBytes(32).toString('base64'),
      TOOL_URL: 'http://localhost:3999',
      LOG_LEVEL: 'silent',
      EMBEDDED_PG_DIR: dir,
      EMBEDDED_PG_PORT: String(await freePort()),
    };
    delete env.DATABASE_URL;
    const cli = (...args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/lti.ts', ...args], { env, encoding: 'utf8', timeout: 60_000 });
    const registered = cli('register', '--name', 'Moodle beside the demo', '--issuer', 'https://moodle.example.edu', '--client-id', 'beside-demo',
      '--auth-url', 'https://moodle.example.edu/mod/lti/auth.php', '--token-url', 'https://moodle.example.edu/mod/lti/token.php',
      '--jwks-url', 'https://moodle.example.edu/mod/lti/certs.php', '--deployment', '3');
    expect([registered.status, registered.stderr]).toEqual([0, '']);
    expect(registered.stdout).toContain('Registered Moodle beside the demo');
    const listed = cli('list');
    expect(listed.status).toBe(0);
    expect(listed.stdout).toContain('issuer https://moodle.example.edu  client beside-demo  deployments 3');
    // The registration is in the running tool's database, and its server was neither stopped nor doubled.
    expect(postmastersOf(dir)).toEqual([pidInFile(dir)]);
    expect(await query(port, 'select 1 as one')).toEqual([{ one: 1 }]);
  }, 120_000);

  it('stops the server a killed process left running, and the next start serves the same data from one postmaster', async () => {
    await query(port, `create table survivors (note text); insert into survivors values ('written before the crash')`);
    const leftover = pidInFile(dir);
    first.child.kill('SIGKILL');
    await first.exited;
    // The server outlives the process that started it: this is what broke the next start.
    expect(isRunning(leftover)).toBe(true);
    expect(await query(port, 'select 1 as one')).toEqual([{ one: 1 }]);

    const said: string[] = [];
    const server = await startEmbeddedPostgres({ dir, port, logger: { warn: (msg) => said.push(msg) } });
    servers.push(server);
    expect(said).toEqual([`found a PostgreSQL left running from an earlier run (pid ${leftover}); stopped it`]);
    expect(isRunning(leftover)).toBe(false);
    expect(await query(port, 'select note from survivors')).toEqual([{ note: 'written before the crash' }]);
    expect(postmastersOf(dir)).toEqual([pidInFile(dir)]);
    await server.stop();
    expect(postmastersOf(dir)).toEqual([]);
  }, 60_000);

  it('starts over a postmaster.pid that names a process which is gone', async () => {
    writePidFile(dir, deadPid(), port);
    const said: string[] = [];
    const server = await startEmbeddedPostgres({ dir, port, logger: { warn: (msg) => said.push(msg) } });
    servers.push(server);
    expect(said).toEqual([]);
    expect(await query(port, 'select count(*)::int as n from survivors')).toEqual([{ n: 1 }]);
    await server.stop();
  }, 60_000);

  it('never signals an unrelated process that now has the pid in postmaster.pid', async () => {
    const unrelated = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
    strays.push(unrelated.pid!);
    writePidFile(dir, unrelated.pid!, port);
    const start = startEmbeddedPostgres({ dir, port });
    if (userInfo().uid === 0) {
      // The server runs as the postgres user, which may not signal root's process: PostgreSQL takes the pid file for stale.
      servers.push(await start);
      await servers.at(-1)!.stop();
    } else {
      await expect(start).rejects.toThrow(`${dir}/postmaster.pid names pid ${unrelated.pid}, which is not a PostgreSQL server of this folder: if none runs on it, delete that file.`);
    }
    expect(isRunning(unrelated.pid!)).toBe(true);
    unrelated.kill('SIGKILL');
  }, 60_000);

  it('says plainly which port another program holds and which variable to change', async () => {
    const foreign = net.createServer();
    const held = await freePort();
    await new Promise<void>((resolve) => foreign.listen(held, '127.0.0.1', resolve));
    try {
      await expect(startEmbeddedPostgres({ dir, port: held })).rejects.toThrow(
        `Port ${held} is in use by another program, not by an embedded PostgreSQL server of ${dir}. Set EMBEDDED_PG_PORT to a free port, or DATABASE_URL to use another PostgreSQL server.`,
      );
    } finally {
      await new Promise((resolve) => foreign.close(resolve));
    }
    expect(postmastersOf(dir)).toEqual([]);
  });

  it('passes on what PostgreSQL said when it does not start', async () => {
    await expect(startEmbeddedPostgres({ dir, port, settings: { max_connections: 'many' } })).rejects.toThrow(
      new RegExp(`^The embedded PostgreSQL server did not start on port ${port} \\(data in ${dir}\\)\\. FATAL: invalid value for parameter "max_connections": "many"`),
    );
    expect(postmastersOf(dir)).toEqual([]);
  });

  it('gives up with a clear error when a leftover server does not stop in time', async () => {
    // A stand-in postmaster that ignores SIGINT, orphaned like a real leftover (its starter exits at once).
    const fakeDir = path.join(root, 'stuck');
    const armed = path.join(root, 'stuck-armed');
    const stub = `process.on('SIGINT', () => {}); require('node:fs').writeFileSync(${JSON.stringify(armed)}, ''); setInterval(() => {}, 1000)`;
    const script = `const c = require('node:child_process').spawn(process.execPath, ['-e', ${JSON.stringify(stub)}, '--', '-D', ${JSON.stringify(fakeDir)}], { argv0: 'postgres', detached: true, stdio: 'ignore' }); c.unref(); console.log(c.pid)`;
    mkdirSync(fakeDir);
    const stuck = Number(spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' }).stdout.trim());
    strays.push(stuck);
    await until('the stand-in to ignore SIGINT', async () => (existsSync(armed) ? true : undefined));
    writePidFile(fakeDir, stuck, port);

    await expect(stopLeftoverServer(fakeDir, { timeoutMs: 300 })).rejects.toThrow(
      `A PostgreSQL server left running from an earlier run (pid ${stuck}, data in ${fakeDir}) did not stop within 0.3 s. Stop it by hand (kill -INT ${stuck}, or kill -QUIT ${stuck} if it still runs) and start again.`,
    );
    expect(isRunning(stuck)).toBe(true);
    process.kill(stuck, 'SIGKILL');
  });
});
