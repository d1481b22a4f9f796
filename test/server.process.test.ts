import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import { readFileSync } from 'node:fs';
import { createTestDatabase, type TestDatabase } from './helpers/db.js';
import { testEnv } from './helpers/stack.js';
import { canvasConfig } from '../src/lti/canvas-config.js';

interface Running {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<number | null>;
}

function start(env: Record<string, string>): Running {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (err += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, stdout: () => out, stderr: () => err, exited };
}

async function waitFor<T>(fn: () => T | undefined, timeoutMs = 30_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('the server process', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db.drop();
  });

  it('stops at start-up with a message naming a wrong variable', async () => {
    const proc = start({ ...testEnv(db, 0), PORT: 'eighty', DATABASE_URL: 'mysql://nope' });
    expect(await proc.exited).toBe(1);
    expect(proc.stderr()).toMatch(/PORT: /);
    expect(proc.stderr()).toMatch(/DATABASE_URL: must be a postgres/);
    expect(proc.stderr()).not.toMatch(/ at .*\.ts:\d+/);
  }, 60_000);

  it('serves, reports health, and shuts down in order on SIGTERM, finishing a request in flight', async () => {
    const proc = start({ ...testEnv(db, 0), ROLE: 'all', LOG_LEVEL: 'info' });
    const port = await waitFor(() => proc.stdout().match(/listening on port (\d+)/)?.[1]);
    const base = `http://localhost:${port}`;
    let body: { status: string; jobs: { ok: boolean; processingHere: boolean; lastHeartbeat: string | null }; database: { ok: boolean } } | undefined;
    for (let i = 0; i < 100; i++) {
      body = (await (await fetch(`${base}/healthz`)).json()) as typeof body;
      if (body?.jobs.lastHeartbeat) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(body).toMatchObject({ status: 'ok', database: { ok: true }, jobs: { ok: true, processingHere: true } });
    expect(body!.jobs.lastHeartbeat).not.toBeNull();

    // A request in flight when SIGTERM arrives (headers sent, body still coming) still gets its answer.
    const answered = new Promise<number>((resolve, reject) => {
      const req = http.request(`${base}/lti/launch`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-length': '20' } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.write('state=abc&');
      setTimeout(() => {
        proc.child.kill('SIGTERM');
        setTimeout(() => req.end('id_token=x'), 300);
      }, 200);
    });
    expect(await answered).toBe(401);
    expect(await proc.exited).toBe(0);
    const log = proc.stderr();
    expect(log.indexOf('shutting down')).toBeGreaterThan(-1);
    expect(log.indexOf('shutdown complete')).toBeGreaterThan(log.indexOf('shutting down'));
    await expect(fetch(`${base}/healthz`)).rejects.toThrow();
  }, 60_000);

  it('runs jobs in a worker without serving HTTP, and a web process alone reports jobs as degraded', async () => {
    const worker = start({ ...testEnv(db, 0), ROLE: 'worker', LOG_LEVEL: 'info', LOG_FORMAT: 'json' });
    await waitFor(() => (worker.stdout().includes('Worker started') ? true : undefined));
    const web = start({ ...testEnv(db, 0), ROLE: 'web' });
    const port = await waitFor(() => web.stdout().match(/listening on port (\d+)/)?.[1]);
    const withWorker = (await (await fetch(`http://localhost:${port}/healthz`)).json()) as { status: string; role: string; jobs: { processingHere: boolean } };
    expect(withWorker).toMatchObject({ status: 'ok', role: 'web', jobs: { processingHere: false } });
    worker.child.kill('SIGTERM');
    expect(await worker.exited).toBe(0);
    // LOG_FORMAT=json: every line on stderr is one JSON object.
    const logLines = worker.stderr().split('\n').filter(Boolean);
    expect(logLines.length).toBeGreaterThan(0);
    for (const line of logLines) expect(JSON.parse(line)).toEqual(expect.objectContaining({ time: expect.any(String), level: expect.any(String), name: 'llm-assess', msg: expect.any(String) }));
    // With the worker gone and its heartbeat made stale, the web process says jobs are not running.
    await db.pool.query(`update agenda_jobs set last_finished_at = now() - interval '10 minutes' where name = 'heartbeat'`);
    const alone = (await (await fetch(`http://localhost:${port}/healthz`)).json()) as { status: string; jobs: { ok: boolean } };
    expect(alone).toMatchObject({ status: 'degraded', jobs: { ok: false } });
    web.child.kill('SIGTERM');
    expect(await web.exited).toBe(0);
  }, 90_000);
});

describe('published documents', () => {
  it('lti-config.json is the Canvas configuration for http://localhost:3000', () => {
    expect(JSON.parse(readFileSync('lti-config.json', 'utf8'))).toEqual(canvasConfig('http://localhost:3000'));
    const config = canvasConfig('https://tool.example.edu');
    const placements = config.extensions[0]!.settings.placements.map((p) => `${p.placement}:${p.message_type}`);
    expect(placements).toEqual(['course_navigation:LtiResourceLinkRequest', 'assignment_selection:LtiDeepLinkingRequest', 'link_selection:LtiDeepLinkingRequest']);
    expect(config.scopes).toEqual(expect.arrayContaining([
      'https://purl.imsglobal.org/spec/lti-ags/scope/score',
      'https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly',
    ]));
  });
});
