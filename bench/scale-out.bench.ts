/**
 * Workers scale out (issue 21, item 1): one web process (this one: the tool, the dev LMS and the OpenAI emulator
 * with instant batch timings) and 1, 2 or 4 worker processes (`ROLE=worker`, `node src/server.ts`, separate OS
 * processes) over one PostgreSQL, through N submissions → batches → send, poll, ingest → the instructor's bulk
 * approval → grade passback to the dev LMS. Each worker count gets a fresh database with the same work.
 *
 * Reports per worker count: seconds and items/s from "confirm and send" to every item graded, and from the bulk
 * approval to every grade at the LMS; the CPU seconds of PostgreSQL (postmaster, its live backends and the backends
 * it reaped), of the workers and of this process, and PostgreSQL's share of them; and the exactly-once counts
 * (assessments, ledger charges and LMS scores, each N, none twice).
 *
 * `npx tsx bench/scale-out.bench.ts [--n 50000] [--workers 1,2,4] [--per-batch 5000]`. The workers run with
 * NODE_ENV=development only so they may call the dev LMS over http on loopback; nothing else differs.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { sql } from 'drizzle-orm';
import { startEmulator } from '../src/emulator/index.js';
import { createBatches, requestSubmit } from '../src/models/batches/batches.service.js';
import { findActiveVersion } from '../src/models/prompts/prompts.repository.js';
import { LtiBrowser } from '../test/helpers/lti-browser.js';
import { activatePrompt, allowLlm } from '../test/helpers/queue-fixtures.js';
import { bulkSubmit, type Tenant } from '../test/helpers/batch-fixtures.js';
import { enrolInDevLms, startWorkerProcess, type WorkerProcess } from '../test/helpers/worker-process.js';
import { startBenchStack } from './lib/stack.js';
import { printTable } from './lib/stats.js';

const TICK = 100;
const ticksPerSecond = 100; // USER_HZ on Linux

/** CPU seconds (user + system) of a process, with its reaped children's when asked (a postmaster's backends). */
function cpuSeconds(pid: number, withReaped = false): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    // After "pid (comm) ": state is field 3, so utime (14) is index 11, stime 12, cutime 13, cstime 14.
    const own = Number(fields[11]) + Number(fields[12]);
    return (own + (withReaped ? Number(fields[13]) + Number(fields[14]) : 0)) / ticksPerSecond;
  } catch {
    return 0;
  }
}

/** PostgreSQL's CPU so far: the postmaster with the backends it reaped, and every live process it started. */
function postgresCpu(dataDir: string): number {
  const postmaster = Number(readFileSync(`${dataDir}/postmaster.pid`, 'utf8').split('\n')[0]);
  let total = cpuSeconds(postmaster, true);
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const ppid = Number(readFileSync(`/proc/${entry}/stat`, 'utf8').split(') ')[1]!.split(' ')[1]);
      if (ppid === postmaster) total += cpuSeconds(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return total;
}

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, TICK));
  }
}

async function runWith(workerCount: number, n: number, perBatch: number) {
  const secrets = { LTI_KEY: randomBytes(32).toString('hex'), ENCRYPTION_KEY: randomBytes(32).toString('base64') };
  const stack = await startBenchStack(`scaleout_${workerCount}`, secrets);
  const emulator = await startEmulator({ port: 0, host: '127.0.0.1', timings: { validatingMs: 0, inProgressMs: 0, finalizingMs: 0 } });
  const workers: WorkerProcess[] = [];
  try {
    const instructor = await new LtiBrowser().launch(stack.lms.url, 'instructor', { task: '1' });
    const home = (await stack.db.execute<{ platform_id: number; course_id: number; task_id: number; instructor_id: number }>(sql`
      select c.platform_id, c.id as course_id, (select min(t.id) from tasks t where t.course_id = c.id) as task_id,
             (select u.id from users u where u.platform_id = c.platform_id and u.sub like '%5e01') as instructor_id
      from courses c where c.context_id = 'course-101'`)).rows[0]!;
    const ids = { platformId: Number(home.platform_id), courseId: Number(home.course_id), taskId: Number(home.task_id), instructorId: Number(home.instructor_id) };
    await allowLlm(stack.db, ids.courseId, ids.instructorId);
    await activatePrompt(stack.db, ids, ids.taskId);
    const version = (await findActiveVersion(stack.db, ids.taskId))!;
    const admin = { platformId: ids.platformId, userId: ids.instructorId };
    const tenant: Tenant = { ...ids, adminId: ids.instructorId, version, admin };
    const items = await bulkSubmit(stack.db, stack.config, tenant, n);
    const subs = (await stack.db.execute<{ sub: string }>(sql`select u.sub from submissions s join users u on u.id = s.student_id where s.task_id = ${ids.taskId}`)).rows.map((r) => r.sub);
    await enrolInDevLms(stack.pool, subs);

    const env = {
      ...secrets,
      NODE_ENV: 'development',
      LOG_LEVEL: 'warn',
      DATABASE_URL: stack.database.url,
      TOOL_URL: stack.config.toolUrl,
      OPENAI_BASE_URL: emulator.apiBaseUrl,
      BATCH_MIN_SIZE: '1',
      BATCH_MAX_SIZE: String(Math.max(perBatch, 1)),
      BATCH_POLL_MIN_MS: '50',
      BATCH_POLL_MAX_MS: '200',
      BATCH_SWEEP_MS: '500',
      JOBS_PROCESS_EVERY_MS: '250',
    };
    for (let i = 0; i < workerCount; i++) workers.push(startWorkerProcess(env, 4000));
    // Let them start (import, connect, Agenda) before the clock starts.
    await new Promise((r) => setTimeout(r, 4000));

    const pgBefore = postgresCpu(stack.database.dataDir);
    const workersBefore = workers.reduce((a, w) => a + cpuSeconds(w.child.pid!), 0);
    const selfBefore = process.cpuUsage();
    const t0 = performance.now();
    const { batches } = await stack.db.transaction((tx) => createBatches(tx, { ...stack.config.batches, minSize: 1, maxSize: Math.max(perBatch, 1) }, admin, { scope: 'selected', ids: items }, { maxPerBatch: perBatch }));
    for (const b of batches) await requestSubmit(stack.db, admin, b.id);
    await waitFor('every item graded', async () => {
      const r = await stack.db.execute<{ open: number }>(sql`select count(*)::int as open from queue_items where task_id = ${ids.taskId} and status <> 'completed'`);
      return r.rows[0]!.open === 0;
    }, 60 * 60_000).catch((err) => {
      throw new Error(`${(err as Error).message}\n${workers.map((w) => w.out()).join('\n---\n')}`);
    });
    const t1 = performance.now();
    const assessments = (await stack.db.execute<{ id: number }>(sql`select id from assessments where task_id = ${ids.taskId} order by id`)).rows.map((r) => String(r.id));
    for (let i = 0; i < assessments.length; i += 500) {
      const res = await instructor.post('/instructor/review/bulk-approve', { ids: assessments.slice(i, i + 500), confirmFlagged: 'on' }, { htmx: true });
      if (res.status !== 200) throw new Error(`bulk approval answered ${res.status}`);
    }
    await waitFor('every grade at the LMS', async () => {
      const r = await stack.db.execute<{ pending: number }>(sql`select count(*) filter (where grade_sync_status <> 'synced')::int as pending from assessments where task_id = ${ids.taskId}`);
      return r.rows[0]!.pending === 0;
    }, 60 * 60_000);
    const t2 = performance.now();
    const pgCpu = postgresCpu(stack.database.dataDir) - pgBefore;
    const self = process.cpuUsage(selfBefore);
    const selfCpu = (self.user + self.system) / 1e6;
    const workerCpu = workers.reduce((a, w) => a + cpuSeconds(w.child.pid!), 0) - workersBefore;

    const counts = (await stack.db.execute<{ assessments: number; assessed: number; charges: number; charged: number }>(sql`
      select (select count(*) from assessments where task_id = ${ids.taskId})::int as assessments,
             (select count(distinct queue_item_id) from assessments where task_id = ${ids.taskId})::int as assessed,
             (select count(*) from cost_ledger where course_id = ${ids.courseId} and kind = 'charge')::int as charges,
             (select count(distinct queue_item_id) from cost_ledger where course_id = ${ids.courseId} and kind = 'charge')::int as charged`)).rows[0]!;
    const scores = (await stack.pool.query<{ posts: number; people: number }>(`select count(*)::int as posts, count(distinct user_sub)::int as people from devlms.scores where user_sub = any($1::text[])`, [subs])).rows[0]!;
    const gradeS = (t1 - t0) / 1000;
    const syncS = (t2 - t1) / 1000;
    return {
      workers: workerCount,
      items: n,
      batches: batches.length,
      gradeSeconds: gradeS,
      gradedPerSecond: n / gradeS,
      passbackSeconds: syncS,
      scoresPerSecond: n / syncS,
      totalPerSecond: n / (gradeS + syncS),
      cpu: { postgres: pgCpu, workers: workerCpu, webProcess: selfCpu, postgresShare: pgCpu / (pgCpu + workerCpu + selfCpu) },
      exactlyOnce: { ...counts, lmsPosts: scores.posts, lmsPeople: scores.people, ok: counts.assessments === n && counts.assessed === n && counts.charges === n && counts.charged === n && scores.posts === n && scores.people === n },
    };
  } finally {
    for (const w of workers) w.child.kill('SIGTERM');
    await Promise.all(workers.map((w) => w.exited));
    await emulator.close();
    await stack.close();
  }
}

export async function run(options: { n?: number; workers?: number[]; perBatch?: number } = {}) {
  const n = options.n ?? 50_000;
  const counts = options.workers ?? [1, 2, 4];
  const perBatch = options.perBatch ?? Math.max(1, Math.ceil(n / 10));
  const results = [];
  for (const k of counts) results.push(await runWith(k, n, perBatch));
  printTable(`Scale-out: ${n.toLocaleString('en')} submissions, ${perBatch.toLocaleString('en')} per batch, 1 web + k worker processes on one PostgreSQL`, results.map((r) => ({
    workers: r.workers,
    'graded/s (send → ingested)': Math.round(r.gradedPerSecond),
    'scores/s (approve → at LMS)': Math.round(r.scoresPerSecond),
    'end to end/s': Math.round(r.totalPerSecond),
    'PG CPU s': Math.round(r.cpu.postgres * 10) / 10,
    'workers CPU s': Math.round(r.cpu.workers * 10) / 10,
    'web CPU s': Math.round(r.cpu.webProcess * 10) / 10,
    'PG share': `${Math.round(r.cpu.postgresShare * 100)} %`,
    'exactly once': r.exactlyOnce.ok ? 'yes' : 'NO',
  })));
  return results;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({ options: { n: { type: 'string' }, workers: { type: 'string' }, 'per-batch': { type: 'string' } } });
  await run({ n: values.n ? Number(values.n) : undefined, workers: values.workers?.split(',').map(Number), perBatch: values['per-batch'] ? Number(values['per-batch']) : undefined });
}
