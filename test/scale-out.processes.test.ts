import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { createBatches, requestSubmit } from '../src/models/batches/batches.service.js';
import { findActiveVersion } from '../src/models/prompts/prompts.repository.js';
import { startStack, testEnv, type Stack } from './helpers/stack.js';
import type { ToolSession } from './helpers/lti-browser.js';
import { activatePrompt, allowLlm, homeIds, type Home } from './helpers/queue-fixtures.js';
import { bulkSubmit, type Tenant } from './helpers/batch-fixtures.js';
import { FAST_BATCH_ENV } from './helpers/batch-driver.js';
import { until } from './helpers/until.js';
import { enrolInDevLms, startWorkerProcess, type WorkerProcess } from './helpers/worker-process.js';

/**
 * Exactly once under several worker processes (issue 21): one web process (this test's tool) and three separate
 * worker processes (`ROLE=worker`, `node src/server.ts`) share one PostgreSQL. 150 submissions of the dev LMS's
 * course go into three batches; the workers race for every step — send, poll, ingest, and after the instructor's bulk
 * approval, grade passback to the dev LMS. What must hold: every item one assessment and one ledger charge, every
 * grade one score at the LMS. Throughput per worker count is a benchmark's business, not this test's.
 */

const N = 150;
const WORKERS = 3;
// The web process and the workers must share the secrets: the workers read what the web process encrypted.
const secrets = { LTI_KEY: randomBytes(32).toString('hex'), ENCRYPTION_KEY: randomBytes(32).toString('base64') };

let stack: Stack;
let instructor: ToolSession;
let home: Home;
let workers: WorkerProcess[] = [];

function startWorker(): WorkerProcess {
  return startWorkerProcess({ ...testEnv(stack.db, 0, { OPENAI_BASE_URL: stack.emulator!.apiBaseUrl, DEVLMS_URL: stack.devlmsUrl, ...FAST_BATCH_ENV, BATCH_INGEST_CHUNK: '10' }), ...secrets, LOG_LEVEL: 'info' }, 3000);
}

const one = async <T extends Record<string, unknown>>(q: ReturnType<typeof sql>) => (await stack.db.db.execute<T>(q)).rows[0]!;
const logs = () => workers.map((w, i) => `--- worker ${i + 1}:\n${w.out()}`).join('\n');

beforeAll(async () => {
  stack = await startStack({ emulator: true, env: secrets });
  instructor = await stack.browser().launch(stack.devlmsUrl, 'instructor', { task: '1' });
  home = await homeIds(stack);
  await allowLlm(stack.db.db, home.courseId, home.instructorId);
  await activatePrompt(stack.db.db, home, home.taskId);
}, 60_000);
afterAll(async () => {
  for (const w of workers) w.child.kill('SIGTERM');
  await Promise.all(workers.map((w) => w.exited));
  await stack?.close();
});

describe('several worker processes on one database', () => {
  it('grade every item once, charge it once and post its grade to the LMS once', async () => {
    const version = (await findActiveVersion(stack.db.db, home.taskId))!;
    const admin = { platformId: home.platformId, userId: home.instructorId };
    const tenant: Tenant = { platformId: home.platformId, courseId: home.courseId, taskId: home.taskId, instructorId: home.instructorId, adminId: home.instructorId, version, admin };
    const items = await bulkSubmit(stack.db.db, stack.config, tenant, N);
    // The same students in the LMS's course, so it takes their scores.
    const subs = (await stack.db.db.execute<{ sub: string }>(sql`select u.sub from queue_items q join submissions s on s.id = q.submission_id join users u on u.id = s.student_id where q.id = any(${sql.param(items)}::bigint[])`)).rows.map((r) => r.sub);
    await enrolInDevLms(stack.db.pool, subs);

    const { batches } = await stack.db.db.transaction((tx) => createBatches(tx, stack.config.batches, admin, { scope: 'selected', ids: items }, { maxPerBatch: N / WORKERS }));
    expect(batches).toHaveLength(WORKERS);
    for (const b of batches) await requestSubmit(stack.db.db, admin, b.id);

    workers = Array.from({ length: WORKERS }, startWorker);
    const graded = await until('the workers to send, poll and ingest every batch', async () => {
      const r = await one<{ open: number; assessed: number }>(sql`
        select count(*) filter (where status <> 'completed')::int as open, (select count(*) from assessments a where a.queue_item_id = any(${sql.param(items)}::bigint[]))::int as assessed
        from queue_items where id = any(${sql.param(items)}::bigint[])`);
      return r.open === 0 ? r : undefined;
    }, 60_000, 100).catch((err) => {
      throw new Error(`${(err as Error).message}\n${logs()}`);
    });
    expect(graded.assessed).toBe(N);

    // Each reservation settled by its charge: what the ledger commits is exactly what was charged.
    const ledger = await one<{ charges: number; charged_items: number; unsettled: number }>(sql`
      select count(*) filter (where kind = 'charge')::int as charges, count(distinct queue_item_id) filter (where kind = 'charge')::int as charged_items,
             (sum(case when kind = 'release' then -amount_micros else amount_micros - settled_micros end)
               - sum(amount_micros) filter (where kind = 'charge'))::int8 as unsettled
      from cost_ledger where queue_item_id = any(${sql.param(items)}::bigint[])`);
    expect({ ...ledger, unsettled: Number(ledger.unsettled) }).toEqual({ charges: N, charged_items: N, unsettled: 0 });
    const perItem = await one<{ max: number }>(sql`select max(n)::int as max from (select count(*) as n from assessments where queue_item_id = any(${sql.param(items)}::bigint[]) group by queue_item_id) x`);
    expect(perItem.max).toBe(1);

    // The instructor approves them all (the review page's bulk approval, in chunks of its maximum); the workers post.
    const assessments = (await stack.db.db.execute<{ id: number }>(sql`select id from assessments where queue_item_id = any(${sql.param(items)}::bigint[]) order by id`)).rows.map((r) => String(r.id));
    for (let i = 0; i < assessments.length; i += 100) {
      const res = await instructor.post('/instructor/review/bulk-approve', { ids: assessments.slice(i, i + 100), confirmFlagged: 'on' }, { htmx: true });
      expect(res.status).toBe(200);
    }
    await until('every grade to reach the LMS', async () => {
      const r = await one<{ pending: number }>(sql`select count(*) filter (where grade_sync_status <> 'synced')::int as pending from assessments where queue_item_id = any(${sql.param(items)}::bigint[])`);
      return r.pending === 0 ? r : undefined;
    }, 60_000, 100).catch((err) => {
      throw new Error(`${(err as Error).message}\n${logs()}`);
    });
    const scores = (await stack.db.pool.query<{ posts: number; people: number; most: number }>(`
      select count(*)::int as posts, count(distinct user_sub)::int as people, coalesce(max(n), 0)::int as most
      from (select user_sub, count(*) over (partition by user_sub) as n from devlms.scores where user_sub = any($1::text[])) x`, [subs])).rows[0]!;
    expect(scores).toEqual({ posts: N, people: N, most: 1 });
    // Every worker was up the whole time (none crashed out of the race).
    expect(workers.every((w) => w.child.exitCode === null)).toBe(true);
  }, 150_000);
});
