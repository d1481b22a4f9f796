import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { sql } from 'drizzle-orm';
import { startStack, type Stack } from './helpers/stack.js';
import type { ToolSession } from './helpers/lti-browser.js';
import { textOf } from './helpers/html.js';
import { activatePrompt, allowLlm, homeIds, submitMany, userIdOf } from './helpers/queue-fixtures.js';
import { parsePrometheus, valueOf } from './helpers/prometheus.js';
import { currentLogContext, type Logger } from '../src/log.js';
import { OpenAIBatchProvider, ProviderError } from '../src/providers/index.js';
import { until } from './helpers/until.js';

const TOKEN = 'metrics-token-for-tests-0123456789abcdef';

/** Every line logged, with the request id the logger would add (src/log.ts's context). */
function capturingLogger() {
  const lines: Array<{ level: string; msg: string; fields?: Record<string, unknown>; requestId?: string }> = [];
  const capture = (level: string) => (msg: string, fields?: Record<string, unknown>) => lines.push({ level, msg, fields, requestId: currentLogContext()?.requestId });
  const logger: Logger = { debug: capture('debug'), info: capture('info'), warn: capture('warn'), error: capture('error') };
  return { lines, logger };
}

/**
 * Operations: GET /metrics (Prometheus text, behind METRICS_TOKEN), request ids on responses, log lines and error
 * pages, and /healthz's job backlog. One tool in role `all`, so its jobs run and are counted.
 */
describe('operations', () => {
  let stack: Stack;
  let instructor: ToolSession;
  let student: ToolSession;
  const { lines, logger } = capturingLogger();

  beforeAll(async () => {
    stack = await startStack({ role: 'all', env: { METRICS_TOKEN: TOKEN }, emulator: true, logger });
    instructor = await stack.browser().launch(stack.devlmsUrl, 'instructor', { task: '1' });
    student = await stack.browser().launch(stack.devlmsUrl, 'student1', { task: '1' });
  }, 60_000);
  afterAll(async () => {
    await stack?.close();
  });

  const scrape = async () => {
    const res = await fetch(`${stack.toolUrl}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    return parsePrometheus(await res.text());
  };

  describe('GET /metrics', () => {
    it('answers Prometheus text with every family declared, and queue depth as the database counts it', async () => {
      const home = await homeIds(stack);
      await allowLlm(stack.db.db, home.courseId, home.instructorId);
      await activatePrompt(stack.db.db, home, home.taskId);
      await submitMany(stack, home, home.taskId, await userIdOf(stack, '5e02'), 3);
      await stack.db.db.execute(sql`update queue_items set status = 'failed' where id = (select max(id) from queue_items)`);

      const families = await scrape();
      for (const [name, type] of [
        ['llm_assess_http_request_duration_seconds', 'histogram'],
        ['llm_assess_job_duration_seconds', 'histogram'],
        ['llm_assess_job_failures_total', 'counter'],
        ['llm_assess_provider_call_duration_seconds', 'histogram'],
        ['llm_assess_provider_call_errors_total', 'counter'],
        ['llm_assess_queue_items', 'gauge'],
        ['llm_assess_batches', 'gauge'],
        ['llm_assess_grade_sync_backlog', 'gauge'],
        ['llm_assess_jobs_backlog', 'gauge'],
        ['llm_assess_jobs_oldest_pending_seconds', 'gauge'],
      ] as const) {
        expect([name, families.get(name)?.type]).toEqual([name, type]);
      }
      const counts = await stack.db.db.execute<{ status: string; n: number }>(sql`select status, count(*)::int as n from queue_items group by status`);
      expect(counts.rows.length).toBeGreaterThan(1);
      for (const row of counts.rows) expect([row.status, valueOf(families, 'llm_assess_queue_items', { status: row.status })]).toEqual([row.status, Number(row.n)]);
      // Statuses without rows are there, at 0: a series does not vanish when its last item moves on.
      expect(valueOf(families, 'llm_assess_queue_items', { status: 'skipped' })).toBe(0);
      expect(valueOf(families, 'llm_assess_batches', { status: 'processing' })).toBe(0);
      expect(valueOf(families, 'llm_assess_grade_sync_backlog')).toBe(0);
    });

    it('counts the grade-sync backlog', async () => {
      const pending = await stack.db.db.execute<{ n: number }>(sql`select count(*)::int as n from assessments where grade_sync_status = 'pending'`);
      expect(valueOf(await scrape(), 'llm_assess_grade_sync_backlog')).toBe(Number(pending.rows[0]!.n));
    });

    it('times a request under its route pattern, never its path', async () => {
      const home = await homeIds(stack);
      const page = await instructor.get(`/instructor/tasks/${home.taskId}`);
      expect(page.status).toBe(200);
      const families = await scrape();
      expect(valueOf(families, 'llm_assess_http_request_duration_seconds_count', { method: 'GET', route: '/instructor/tasks/:taskId', status: '2xx' })).toBeGreaterThanOrEqual(1);
      const routes = new Set(families.get('llm_assess_http_request_duration_seconds')!.samples.map((s) => s.labels.route));
      expect([...routes].filter((r) => /\d|ltik|\?/.test(r ?? ''))).toEqual([]);
      // A path nobody serves is one label, whatever was asked.
      await fetch(`${stack.toolUrl}/no/such/page/123`);
      expect(valueOf(await scrape(), 'llm_assess_http_request_duration_seconds_count', { route: '(unmatched)', status: '4xx' })).toBeGreaterThanOrEqual(1);
    });

    it('counts job runs by name, and a failed run as a failure', async () => {
      const counted = (name: string, labels: Record<string, string>) => async () => ((valueOf(await scrape(), name, labels) ?? 0) >= 1 ? true : undefined);
      await until('a heartbeat run counted', counted('llm_assess_job_duration_seconds_count', { job: 'heartbeat', outcome: 'ok' }), 20_000, 200);
      // A payload the job's schema refuses (written past enqueue's own check) fails the run.
      await stack.tool.jobs.agenda.now('sync-roster', { courseId: 'not a number' });
      await until('a failed run counted', counted('llm_assess_job_failures_total', { job: 'sync-roster' }), 20_000, 200);
      expect(valueOf(await scrape(), 'llm_assess_job_duration_seconds_count', { job: 'sync-roster', outcome: 'failed' })).toBeGreaterThanOrEqual(1);
    });

    it('times provider calls by operation and counts failed ones by code', async () => {
      const provider = new OpenAIBatchProvider({ apiKey: 'k', baseURL: stack.emulator!.apiBaseUrl, retry: { maxAttempts: 1 }, metrics: stack.tool.tool!.metrics });
      await provider.findBatchByMetadata({ llm_assess_batch_id: 'none' }, new Date());
      await expect(provider.getBatch('batch_does_not_exist')).rejects.toBeInstanceOf(ProviderError);
      const families = await scrape();
      expect(valueOf(families, 'llm_assess_provider_call_duration_seconds_count', { provider: 'openai', operation: 'find_batch' })).toBe(1);
      expect(valueOf(families, 'llm_assess_provider_call_duration_seconds_count', { provider: 'openai', operation: 'retrieve_batch' })).toBe(1);
      expect(valueOf(families, 'llm_assess_provider_call_errors_total', { operation: 'retrieve_batch', code: 'not_found' })).toBe(1);
      expect(valueOf(families, 'llm_assess_provider_call_errors_total', { operation: 'find_batch' })).toBeUndefined();
    });

    it.each([
      ['no Authorization header', undefined],
      ['a wrong token', `Bearer ${TOKEN.replace(/.$/, 'x')}`],
      ['a longer token', `Bearer ${TOKEN}x`],
      ['the token without the scheme', TOKEN],
      ['another scheme', `Basic ${Buffer.from(`x:${TOKEN}`).toString('base64')}`],
    ])('refuses %s with 401 and a JSON error', async (_what, authorization) => {
      const res = await fetch(`${stack.toolUrl}/metrics`, { headers: authorization ? { authorization } : {} });
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/);
      expect(await res.json()).toEqual({ error: { code: 'unauthorized', message: expect.any(String) } });
    });

  });

  describe('request ids', () => {
    it('gives every response one, and honours a safe incoming one', async () => {
      const generated = await fetch(`${stack.toolUrl}/healthz`);
      expect(generated.headers.get('x-request-id')).toMatch(/^[0-9a-f]{16}$/);
      const other = await fetch(`${stack.toolUrl}/healthz`);
      expect(other.headers.get('x-request-id')).not.toBe(generated.headers.get('x-request-id'));
      const honoured = await fetch(`${stack.toolUrl}/healthz`, { headers: { 'x-request-id': 'lb-4f2a.9c_77-x' } });
      expect(honoured.headers.get('x-request-id')).toBe('lb-4f2a.9c_77-x');
    });

    it.each([
      ['too short', 'abc'],
      ['too long', 'a'.repeat(65)],
      ['with spaces and markup', 'abcdefgh <script>'],
      ['with a log-line break', 'abcdefgh%0Aforged'],
    ])('replaces an unsafe incoming one (%s)', async (_what, incoming) => {
      const res = await fetch(`${stack.toolUrl}/healthz`, { headers: { 'x-request-id': incoming } });
      expect(res.headers.get('x-request-id')).toMatch(/^[0-9a-f]{16}$/);
    });

    it('is on every log line written while handling the request', async () => {
      lines.length = 0;
      const res = await student.get('/student/no-such-page', { headers: { 'x-request-id': 'trace-404-0001' } });
      expect(res.status).toBe(404);
      expect(res.headers.get('x-request-id')).toBe('trace-404-0001');
      const refused = lines.find((l) => l.msg === 'request refused');
      expect(refused?.requestId).toBe('trace-404-0001');
    });

  });

  describe('GET /healthz', () => {
    it('reports the job backlog and how long its oldest job has waited', async () => {
      const body = async () => (await (await fetch(`${stack.toolUrl}/healthz`)).json()) as { status: string; jobs: { backlog: number; oldestPendingSeconds: number | null; lastHeartbeat: string | null } };
      const before = await body();
      expect(before.jobs).toEqual(expect.objectContaining({ backlog: expect.any(Number), lastHeartbeat: expect.anything() }));
      // Due ten minutes ago under a name no worker defines, so none takes it; a disabled one is not waiting.
      await stack.db.pool.query(`insert into agenda_jobs (name, next_run_at, data, disabled) values ('ops-test-disabled', now() - interval '1 hour', '{}', true)`);
      expect((await body()).jobs.oldestPendingSeconds ?? 0).toBeLessThan(3600);
      await stack.db.pool.query(`insert into agenda_jobs (name, next_run_at, data) values ('ops-test-waiting', now() - interval '10 minutes', '{}')`);
      const after = await body();
      expect(after.status).toBe('ok');
      expect(after.jobs.backlog).toBeGreaterThanOrEqual(1);
      expect(after.jobs.oldestPendingSeconds).toBeGreaterThanOrEqual(599);
      expect(after.jobs.oldestPendingSeconds).toBeLessThan(3600);
      const families = await scrape();
      expect(valueOf(families, 'llm_assess_jobs_backlog')).toBeGreaterThanOrEqual(1);
      expect(valueOf(families, 'llm_assess_jobs_oldest_pending_seconds')).toBeGreaterThanOrEqual(599);
      await stack.db.pool.query(`delete from agenda_jobs where name like 'ops-test-%'`);
    });
  });
});

/** The database goes away under a web process (a cut TCP proxy): 5xx answers carry the request id as their reference. */
describe('operations during a database outage', () => {
  let stack: Stack;
  let student: ToolSession;
  const { lines, logger } = capturingLogger();
  beforeAll(async () => {
    stack = await startStack({ env: { METRICS_TOKEN: TOKEN }, proxyDatabase: true, logger });
    student = await stack.browser().launch(stack.devlmsUrl, 'student1', { task: '1' });
  }, 60_000);
  afterAll(async () => {
    await stack?.close();
  });

    it('answers 503 while the database is away', async () => {
      stack.dbProxy!.cut();
      try {
        const res = await fetch(`${stack.toolUrl}/metrics`, { headers: { authorization: `Bearer ${TOKEN}`, accept: 'application/json' } });
        expect(res.status).toBe(503);
        expect(((await res.json()) as { error: { code: string } }).error.code).toBe('database_unavailable');
      } finally {
        stack.dbProxy!.restore();
      }
    });
    it('is the reference of a 5xx error page and of its log line', async () => {
      lines.length = 0;
      stack.dbProxy!.cut();
      try {
        const page = await student.get('/student', { headers: { 'x-request-id': 'trace-5xx-0001' } });
        expect(page.status).toBe(503);
        expect(page.headers.get('x-request-id')).toBe('trace-5xx-0001');
        expect(textOf(page.html)).toContain('reference trace-5xx-0001');
      } finally {
        stack.dbProxy!.restore();
      }
      const failed = lines.find((l) => l.msg === 'request failed');
      expect(failed?.fields?.reference).toBe('trace-5xx-0001');
      expect(failed?.requestId).toBe('trace-5xx-0001');
    });

    it('is the reference of a JSON error', async () => {
      stack.dbProxy!.cut();
      try {
        const res = await student.get('/api/session');
        expect(res.status).toBe(503);
        expect(res.json<{ error: { reference: string } }>().error.reference).toBe(res.headers.get('x-request-id'));
      } finally {
        stack.dbProxy!.restore();
      }
    });
});

describe('GET /metrics without METRICS_TOKEN', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ register: false });
  }, 60_000);
  afterAll(async () => {
    await stack?.close();
  });

  it('does not exist (404), with or without a token', async () => {
    for (const headers of [{}, { authorization: `Bearer ${TOKEN}` }, { authorization: 'Bearer ' }] as Array<Record<string, string>>) {
      const res = await fetch(`${stack.toolUrl}/metrics`, { headers: { accept: 'application/json', ...headers } });
      expect(res.status).toBe(404);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('not_found');
    }
  });
});

describe('a worker process (ROLE=worker) with WORKER_METRICS_PORT', () => {
  let stack: Stack;
  let port: number;
  beforeAll(async () => {
    stack = await startStack({ register: false, role: 'worker', env: { METRICS_TOKEN: TOKEN, WORKER_METRICS_PORT: '0' } });
    port = stack.tool.port;
  }, 60_000);
  afterAll(async () => {
    await stack?.close();
  });

  it('serves its own job metrics behind the same token, and /healthz; nothing else', async () => {
    expect((await fetch(`http://127.0.0.1:${port}/metrics`)).status).toBe(401);
    const res = await fetch(`http://127.0.0.1:${port}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(res.status).toBe(200);
    const families = parsePrometheus(await res.text());
    expect(families.has('llm_assess_job_duration_seconds')).toBe(true);
    const health = await fetch(`http://127.0.0.1:${port}/healthz`);
    expect(health.status).toBe(200);
    expect(((await health.json()) as { role: string }).role).toBe('worker');
    expect((await fetch(`http://127.0.0.1:${port}/student`, { headers: { accept: 'application/json' } })).status).toBe(404);
  });
});
