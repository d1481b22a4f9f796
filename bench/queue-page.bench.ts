/**
 * The administrator's queue page with 100,000 queue items on the platform (20 courses, 60 tasks, 2,000 students;
 * 90% queued, the rest in batches, finished, failed or skipped; spread over 30 days), filtered, sorted and
 * paginated, under concurrent load: a small closed-loop load generator (N connections, each sending its next
 * request when the previous answer has been read, over keep-alive), like autocannon's default mode.
 * Reports p50/p95/p99 latency and requests/s for the mix and per view. Target: p95 < 100 ms.
 *
 *   npx tsx bench/queue-page.bench.ts [--items 100000] [--connections 8] [--seconds 10]
 *
 * Runs 1, 2, 4 and `--connections` concurrent connections in turn (the latency curve), `--seconds` each.
 */
import { Worker } from 'node:worker_threads';
import { parseArgs } from 'node:util';
import { sql } from 'drizzle-orm';
import { LtiBrowser } from '../test/helpers/lti-browser.js';
import { activatePrompt } from '../test/helpers/queue-fixtures.js';
import type { Db } from '../src/db/db.js';
import { startBenchStack } from './lib/stack.js';
import { printTable, summarize } from './lib/stats.js';

interface Options {
  items?: number;
  connections?: number;
  seconds?: number;
}

/** Bulk fixtures with generate_series: one statement per table, no per-row round trips. */
async function seed(db: Db, platformId: number, deploymentId: string, versionId: number, items: number) {
  await db.execute(sql`
    insert into courses (platform_id, deployment_id, context_id, title, label)
    select ${platformId}, ${deploymentId}, 'bench-course-' || g, 'Bench course ' || lpad(g::text, 2, '0'), 'B' || g from generate_series(1, 20) g`);
  await db.execute(sql`
    insert into users (platform_id, sub, name)
    select ${platformId}, 'bench-user-' || g, 'Student ' || g from generate_series(1, 2000) g`);
  await db.execute(sql`
    insert into users (platform_id, sub, name)
    select ${platformId}, 'bench-teacher-' || g, 'Teacher ' || g from generate_series(1, 10) g`);
  await db.execute(sql`
    insert into memberships (course_id, user_id, role)
    select c.id, u.id, 'instructor' from courses c join users u on u.sub = 'bench-teacher-' || (1 + (c.id % 10))
    where c.context_id like 'bench-course-%'`);
  await db.execute(sql`
    insert into tasks (course_id, resource_link_id, title, task_type, max_score)
    select c.id, 'bench-link-' || c.id || '-' || k, 'Task ' || k || ' of ' || c.title, (array['essay','short_answer','code','reflection'])[1 + (k + c.id) % 4], 10
    from courses c cross join generate_series(1, 3) k where c.context_id like 'bench-course-%'`);
  // One submission per item: student g % 2000, task g % 60, attempt g (unique per row).
  await db.execute(sql`
    with t as (select id, course_id, row_number() over (order by id) - 1 as n from tasks where resource_link_id like 'bench-link-%'),
         u as (select id, row_number() over (order by id) - 1 as n from users where sub like 'bench-user-%')
    insert into submissions (task_id, course_id, student_id, attempt, content_format, char_count, content_hmac, created_at)
    select t.id, t.course_id, u.id, g, 'text', 500 + (g * 37) % 5000, md5(g::text), now() - ((g * 7919) % 2592000) * interval '1 second'
    from generate_series(1, ${items}) g join t on t.n = g % 60 join u on u.n = g % 2000`);
  await db.execute(sql`
    insert into queue_items (platform_id, course_id, task_id, submission_id, prompt_version_id, status, priority, priority_rank, model,
                             est_input_tokens, est_output_tokens, est_cost_micros, attempts, max_attempts, last_error, created_at, updated_at)
    select ${platformId}, s.course_id, s.task_id, s.id, ${versionId},
           case when s.attempt % 10 < 9 then 'queued' when s.attempt % 40 = 9 then 'completed' when s.attempt % 40 = 19 then 'failed' when s.attempt % 40 = 29 then 'skipped' else 'completed' end,
           (array['high','normal','normal','normal','low'])[1 + s.attempt % 5], (array[0,1,1,1,2])[1 + s.attempt % 5], 'gpt-4o-mini',
           300 + (s.attempt * 13) % 3000, 400, 60 + (s.attempt * 11) % 900, case when s.attempt % 40 = 19 then 3 else 0 end, 3,
           case when s.attempt % 40 = 19 then 'invalid_request: context length exceeded' end, s.created_at, s.created_at
    from submissions s where s.content_hmac is not null and s.task_id in (select id from tasks where resource_link_id like 'bench-link-%')`);
  await db.execute(sql`analyze`);
}

/**
 * Closed-loop load: `connections` loops over keep-alive sockets until the deadline. It runs in a worker thread, so
 * the client's own work (parsing 80 KB pages) does not share the event loop of the tool it measures.
 */
const LOAD_WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const { Agent, request } = require('node:http');
const { baseUrl, headers, paths, connections, seconds } = workerData;
const agent = new Agent({ keepAlive: true, maxSockets: connections });
const url = new URL(baseUrl);
const samples = paths.map(() => []);
let errors = 0, bytes = 0, next = 0;
const once = (path) => new Promise((resolve, reject) => {
  const req = request({ host: url.hostname, port: url.port, path, method: 'GET', agent, headers }, (res) => {
    let size = 0;
    res.on('data', (c) => (size += c.length));
    res.on('end', () => resolve({ status: res.statusCode, size }));
    res.on('error', reject);
  });
  req.on('error', reject);
  req.end();
});
(async () => {
  const started = performance.now();
  const deadline = started + seconds * 1000;
  await Promise.all(Array.from({ length: connections }, async () => {
    while (performance.now() < deadline) {
      const i = next++ % paths.length;
      const t0 = performance.now();
      const res = await once(paths[i].path);
      samples[i].push(performance.now() - t0);
      if (res.status !== 200) errors++;
      bytes += res.size;
    }
  }));
  agent.destroy();
  parentPort.postMessage({ samples, errors, bytes, elapsed: (performance.now() - started) / 1000 });
})();
`;

async function load(baseUrl: string, headers: Record<string, string>, paths: Array<{ name: string; path: string }>, connections: number, seconds: number) {
  const out = await new Promise<{ samples: number[][]; errors: number; bytes: number; elapsed: number }>((resolve, reject) => {
    const worker = new Worker(LOAD_WORKER, { eval: true, workerData: { baseUrl, headers, paths, connections, seconds } });
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  const all = out.samples.flat();
  return {
    requests: all.length,
    errors: out.errors,
    requestsPerSecond: Math.round((all.length / out.elapsed) * 10) / 10,
    meanKb: Math.round(out.bytes / Math.max(1, all.length) / 100) / 10,
    ms: summarize(all),
    views: Object.fromEntries(paths.map((p, i) => [p.name, summarize(out.samples[i]!)])),
  };
}

/** The tool, the dev LMS and the seeded database, with an administrator's session (also used for profiling). */
export async function prepare(items: number) {
  const { config, db, lms, close } = await startBenchStack('queue_bench');
  await lms.devlms.seed();

  // A real launch: the instructor's makes the course and task (and a prompt version to point at), the admin's the session.
  await new LtiBrowser().launch(lms.url, 'instructor', { task: '1' });
  const admin = await new LtiBrowser().launch(lms.url, 'admin');
  const home = (await db.execute<{ platform_id: number; course_id: number; task_id: number; instructor_id: number; deployment_id: string }>(sql`
    select c.platform_id, c.id as course_id, c.deployment_id, (select min(id) from tasks where course_id = c.id) as task_id,
           (select id from users where sub like '%5e01') as instructor_id from courses c order by c.id limit 1`)).rows[0]!;
  await activatePrompt(db, { platformId: Number(home.platform_id), courseId: Number(home.course_id), instructorId: Number(home.instructor_id) }, Number(home.task_id));
  const version = (await db.execute<{ id: number }>(sql`select id from prompt_versions order by id limit 1`)).rows[0]!;
  const t0 = performance.now();
  await seed(db, Number(home.platform_id), home.deployment_id, Number(version.id), items);
  const seedSeconds = Math.round((performance.now() - t0) / 100) / 10;
  const counts = (await db.execute<{ n: number; queued: number }>(sql`select count(*)::int as n, count(*) filter (where status = 'queued')::int as queued from queue_items`)).rows[0]!;

  const ids = (await db.execute<{ course: number; task: number; teacher: number }>(sql`
    select (select id from courses where context_id = 'bench-course-7') as course,
           (select min(id) from tasks where resource_link_id like 'bench-link-%') as task,
           (select id from users where sub = 'bench-teacher-3') as teacher`)).rows[0]!;
  return {
    config, db, admin, ids, counts, seedSeconds, platformId: Number(home.platform_id),
    close,
  };
}

export async function run(options: Options = {}) {
  const items = options.items ?? 100_000;
  const connections = options.connections ?? 8;
  const seconds = options.seconds ?? 10;
  const { config, admin, ids, counts, seedSeconds, close } = await prepare(items);
  const day = (d: number) => new Date(Date.now() - d * 86_400_000).toISOString().slice(0, 10);
  const paths = [
    { name: 'default (queued, by priority, page 1)', path: '/admin/queue' },
    { name: 'course, oldest first, page 3', path: `/admin/queue?course=${ids.course}&sort=oldest&page=3` },
    { name: 'task type + priority', path: '/admin/queue?taskType=code&priority=high' },
    { name: 'date range, newest, page 10', path: `/admin/queue?from=${day(20)}&to=${day(10)}&sort=newest&page=10` },
    { name: 'instructor, by cost, 100/page', path: `/admin/queue?instructor=${ids.teacher}&sort=cost&pageSize=100` },
    { name: 'task, any status, page 2', path: `/admin/queue?task=${ids.task}&status=all&page=2` },
    { name: 'failed (dead letters), newest', path: '/admin/queue?status=failed&sort=newest' },
    { name: 'deep page 500', path: '/admin/queue?page=500' },
  ].map((p) => ({ ...p, path: p.path + (p.path.includes('?') ? '&' : '?') + `ltik=${encodeURIComponent(admin.ltik)}` }));
  const headers = { authorization: `Bearer ${admin.ltik}`, cookie: admin.browser.jar.header(config.toolUrl) };

  // Every view answers 200 with items before anything is timed.
  for (const p of paths) {
    const res = await admin.get(p.path);
    if (res.status !== 200) throw new Error(`${p.name}: ${res.status} ${res.html.slice(0, 300)}`);
  }
  await load(config.toolUrl, headers, paths, connections, 3); // warm-up
  // The latency curve: one connection (service time), then more concurrent connections up to `connections`.
  const levels = [...new Set([1, 2, 4, connections].filter((n) => n <= connections))];
  const curve: Array<{ connections: number; requestsPerSecond: number; errors: number; ms: ReturnType<typeof summarize> }> = [];
  let last: Awaited<ReturnType<typeof load>> | undefined;
  for (const n of levels) {
    last = await load(config.toolUrl, headers, paths, n, seconds);
    curve.push({ connections: n, requestsPerSecond: last.requestsPerSecond, errors: last.errors, ms: last.ms });
  }
  await close();
  return {
    items: counts.n,
    queued: counts.queued,
    seedSeconds,
    secondsPerLevel: seconds,
    pageKb: last!.meanKb,
    curve,
    viewsAtMaxConnections: last!.views,
    targetP95Ms: 100,
    p95MeetsTargetAt: curve.filter((c) => c.ms.p95 < 100).map((c) => c.connections),
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({ options: { items: { type: 'string', default: '100000' }, connections: { type: 'string', default: '8' }, seconds: { type: 'string', default: '10' } } });
  const result = await run({ items: Number(values.items), connections: Number(values.connections), seconds: Number(values.seconds) });
  printTable(
    `Admin queue page, ${result.items.toLocaleString('en')} items (${result.queued.toLocaleString('en')} queued), ${result.pageKb} KB per page, ${result.secondsPerLevel} s per level (ms)`,
    result.curve.map((c) => ({ connections: c.connections, 'req/s': c.requestsPerSecond, errors: c.errors, ...pick(c.ms) })),
  );
  printTable('Per view, at the highest level (ms)', Object.entries(result.viewsAtMaxConnections).map(([view, s]) => ({ view, ...pick(s) })));
  console.log(`\nTarget p95 < 100 ms met at: ${result.p95MeetsTargetAt.length ? result.p95MeetsTargetAt.join(', ') + ' connection(s)' : 'no level'}.`);
  process.exit(0);
}

function pick(s: { n: number; p50: number; p95: number; p99: number; max: number }) {
  return { n: s.n, p50: s.p50, p95: s.p95, p99: s.p99, max: s.max };
}
