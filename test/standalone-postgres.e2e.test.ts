import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { createDb, createPool, type RootDb } from '../src/db/db.js';
import { startDevLms, type RunningDevLms } from '../src/devlms/index.js';
import { startEmulator, type RunningEmulator } from '../src/emulator/index.js';
import type pg from 'pg';
import { LtiBrowser, type ToolSession } from './helpers/lti-browser.js';
import { activatePrompt, homeIds, postMultipart } from './helpers/queue-fixtures.js';
import { startStandalonePostgres, type StandalonePostgres } from './helpers/standalone-postgres.js';
import { freePort } from './helpers/ports.js';
import { until } from './helpers/until.js';
import type { Stack } from './helpers/stack.js';

/**
 * Production's shape (issue 21, item 5): the tool on a standalone PostgreSQL (Debian's, password authentication over
 * TCP), as separate OS processes — a web process, a worker process and the CLI — none of them embedding a database.
 * The CLI registers the LMS; students submit through the web process; the worker alone sends, polls and ingests the
 * batch and posts the approved grade to the LMS.
 */
interface Proc {
  child: ChildProcess;
  out: () => string;
  exited: Promise<number | null>;
}

function spawnTool(script: string, args: string[], env: Record<string, string>): Proc {
  const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], { env: { ...process.env, ...env, EMBEDDED_PG_DIR: '/nonexistent-embedded-must-not-be-used' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  return { child, out: () => out, exited: new Promise((resolve) => child.on('exit', (code) => resolve(code))) };
}

describe('on a standalone PostgreSQL, as separate processes', () => {
  let server: StandalonePostgres;
  let emulator: RunningEmulator;
  let lms: RunningDevLms;
  let lmsPool: pg.Pool;
  let toolPool: pg.Pool;
  let db: RootDb;
  let env: Record<string, string>;
  const procs: Proc[] = [];
  let toolUrl = '';

  beforeAll(async () => {
    server = await startStandalonePostgres();
    await server.createDatabase('llm_assess');
    await server.createDatabase('devlms');
    emulator = await startEmulator({ port: 0, host: '127.0.0.1', timings: { validatingMs: 0, inProgressMs: 0, finalizingMs: 0 } });
    const toolPort = await freePort();
    toolUrl = `http://localhost:${toolPort}`;
    lmsPool = createPool(server.urlFor('devlms'), 5);
    lms = await startDevLms({ pool: lmsPool, toolUrl, host: '127.0.0.1', testHooks: true });
    env = {
      NODE_ENV: 'test',
      DATABASE_URL: server.urlFor('llm_assess'),
      LTI_KEY: randomBytes(32).toString('hex'),
      ENCRYPTION_KEY: randomBytes(32).toString('base64'),
      TOOL_URL: toolUrl,
      PORT: String(toolPort),
      OPENAI_BASE_URL: emulator.apiBaseUrl,
      EMULATOR_URL: emulator.url,
      LOG_LEVEL: 'warn',
      BATCH_MIN_SIZE: '1',
      BATCH_POLL_MIN_MS: '10',
      BATCH_POLL_MAX_MS: '50',
      BATCH_SWEEP_MS: '300',
      JOBS_PROCESS_EVERY_MS: '250',
      GRADE_SYNC_BACKOFF_MS: '100',
    };
  }, 120_000);
  afterAll(async () => {
    for (const p of procs) p.child.kill('SIGTERM');
    await Promise.all(procs.map((p) => p.exited));
    await toolPool?.end();
    await lms?.close();
    await lmsPool?.end();
    await emulator?.close();
    await server?.stop();
  }, 60_000);

  it('the CLI registers the LMS, the web and worker processes grade a submission and post the grade back', async () => {
    expect(Number(server.version.split('.')[0])).toBeGreaterThanOrEqual(13);
    // The CLI: migrations run on its first connection; the registration lands in this server's database.
    const reg = lms.devlms.toolRegistration();
    const cli = spawnTool('src/cli/lti.ts', ['register', '--issuer', reg.issuer, '--client-id', reg.clientId, '--auth-url', reg.authenticationEndpoint, '--token-url', reg.accesstokenEndpoint, '--jwks-url', reg.jwksUrl, '--deployment', reg.deploymentId, '--name', 'Dev LMS'], env);
    expect(await cli.exited).toBe(0);

    const web = spawnTool('src/server.ts', [], { ...env, ROLE: 'web', LOG_LEVEL: 'info' });
    const worker = spawnTool('src/server.ts', [], { ...env, ROLE: 'worker' });
    procs.push(web, worker);
    await until('the web process to listen', async () => (/listening on port \d+/.test(web.out()) ? true : undefined), 60_000, 100);

    toolPool = createPool(server.urlFor('llm_assess'), 3);
    db = createDb(toolPool);
    const stack = { db: { db }, devlmsUrl: lms.url } as unknown as Stack;
    const instructor = await new LtiBrowser().launch(lms.url, 'instructor', { task: '1' });
    expect((await instructor.post('/instructor/settings', { llmAllowed: 'on', anonymize: 'on', retentionDays: '' }, { htmx: true })).status).toBe(200);
    const home = await homeIds(stack);
    await activatePrompt(db, home, home.taskId);

    const student: ToolSession = await new LtiBrowser().launch(lms.url, 'student1', { task: '1' });
    const submitted = await postMultipart(student, `/student/tasks/${home.taskId}/submissions`, { text: 'Debt, hunger and new ideas about sovereignty made 1789 possible.' });
    expect(submitted.status).toBe(201);

    const admin = await new LtiBrowser().launch(lms.url, 'admin');
    const queue = await admin.get('/admin/queue');
    const ids = [...queue.html.matchAll(/name="ids" value="(\d+)"/g)].map((m) => m[1]!);
    expect(ids).toHaveLength(1);
    const created = await admin.post('/admin/batches', { scope: 'selected', ids }, { htmx: true });
    expect(created.status).toBe(201);
    const batchId = Number((await db.execute<{ id: number }>(sql`select id from batches`)).rows[0]!.id);
    expect((await admin.post(`/admin/batches/${batchId}/submit`, {}, { htmx: true })).status).toBe(200);

    // Only the worker runs jobs: it sends, polls and ingests.
    const assessmentId = await until('the worker to grade the batch', async () => {
      const r = (await db.execute<{ id: number }>(sql`select id from assessments`)).rows[0];
      return r ? Number(r.id) : undefined;
    }, 60_000, 100);
    const batch = (await db.execute<{ status: string }>(sql`select status from batches where id = ${batchId}`)).rows[0]!;
    expect(batch.status).toBe('completed');

    expect((await instructor.post(`/instructor/review/${assessmentId}/approve`, { decisionSeq: '0' }, { htmx: true })).status).toBe(200);
    const score = await until('the grade at the LMS', async () => {
      const scores = (await (await fetch(`${lms.url}/api/scores`)).json()) as Array<{ login: string; scoreGiven: number | null; scoreMaximum: number }>;
      return scores.find((s) => s.login === 'student1');
    }, 60_000, 200);
    expect(score.scoreGiven).not.toBeNull();

    // Nothing was done twice, and the web process ran no job (its role is web).
    const counts = (await db.execute<{ items: number; assessments: number; synced: number }>(sql`
      select (select count(*)::int from queue_items) as items, (select count(*)::int from assessments) as assessments,
             (select count(*)::int from assessments where grade_sync_status = 'synced') as synced`)).rows[0]!;
    expect(counts).toEqual({ items: 1, assessments: 1, synced: 1 });
    const health = (await (await fetch(`${toolUrl}/healthz`)).json()) as { role: string; jobs: { processingHere: boolean; lastHeartbeat: string | null } };
    expect(health).toMatchObject({ role: 'web', jobs: { processingHere: false } });
    expect(health.jobs.lastHeartbeat).not.toBeNull();
    expect(web.out()).not.toMatch(/embedded/i);
  }, 180_000);
});
