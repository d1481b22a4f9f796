import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { NextFunction, Request, Response } from 'express';
import { sql } from 'drizzle-orm';
import { TooManyRequestsError } from '../src/errors.js';
import { clientKey, RateLimiter, rateLimit, retryAfterSeconds } from '../src/http/rate-limit.js';
import { ALL_JOBS } from '../src/jobs/runner.js';
import { purgeLtiStatesJob } from '../src/jobs/purge-lti-states.job.js';
import { silentLogger } from '../src/log.js';
import { startEmulator, type RunningEmulator } from '../src/emulator/index.js';
import { estimateCostMicros } from '../src/providers/index.js';
import { startStack, type Stack } from './helpers/stack.js';
import type { ToolSession } from './helpers/lti-browser.js';
import { launchWith } from './helpers/launches.js';
import { activatePrompt, allowLlm, homeIds, postMultipart, setMaxAttempts, type Home } from './helpers/queue-fixtures.js';
import { promptForm, seededTasks } from './helpers/prompts.js';
import { formatUsd } from '../src/routes/prompts.present.js';

/** Rate limits (src/http/rate-limit.ts) over the real stack, the sample-test budget, and the purge of ltijs login states. */

describe('RateLimiter', () => {
  const clock = () => {
    let t = 1_000_000;
    return { now: () => t, advance: (ms: number) => (t += ms) };
  };

  it('allows the limit at once, then one request per refill interval, and says how long to wait', () => {
    const c = clock();
    const l = new RateLimiter({ limit: 3, windowMs: 60_000, maxKeys: 10, now: c.now });
    expect([l.take('a'), l.take('a'), l.take('a')]).toEqual([0, 0, 0]);
    expect(l.take('a')).toBe(20_000);
    // A refused request counts nothing: the wait does not grow.
    expect(l.take('a')).toBe(20_000);
    c.advance(5_000);
    expect(l.waitMs('a')).toBe(15_000);
    c.advance(15_000);
    expect(l.take('a')).toBe(0);
    expect(l.take('a')).toBe(20_000);
    // Idle for a whole window: the bucket is full again (and not fuller).
    c.advance(600_000);
    expect([l.take('a'), l.take('a'), l.take('a'), l.take('a')]).toEqual([0, 0, 0, 20_000]);
    // Keys are independent.
    expect(l.take('b')).toBe(0);
  });

  it('tracks at most maxKeys keys, forgetting the least recently seen first', () => {
    const c = clock();
    const l = new RateLimiter({ limit: 1, windowMs: 60_000, maxKeys: 2, now: c.now });
    expect(l.take('a')).toBe(0);
    expect(l.take('b')).toBe(0);
    // A refused request keeps its key the most recently seen: a flood cannot push itself out.
    expect(l.take('a')).toBe(60_000);
    expect(l.take('c')).toBe(0);
    expect(l.size).toBe(2);
    expect(l.take('a')).toBe(60_000);
    // b was forgotten, so it starts again with a full bucket.
    expect(l.take('b')).toBe(0);
    expect(l.size).toBe(2);
    for (let i = 0; i < 1000; i++) l.take(`flood-${i}`);
    expect(l.size).toBe(2);
  });

  it('refuses a nonsensical configuration', () => {
    expect(() => new RateLimiter({ limit: 0, windowMs: 60_000, maxKeys: 1 })).toThrow(RangeError);
    expect(() => new RateLimiter({ limit: 1, windowMs: 0, maxKeys: 1 })).toThrow(RangeError);
    expect(() => new RateLimiter({ limit: 1, windowMs: 1, maxKeys: 0 })).toThrow(RangeError);
  });

  it('gives Retry-After in whole seconds, at least one', () => {
    expect(retryAfterSeconds(1)).toBe(1);
    expect(retryAfterSeconds(1000)).toBe(1);
    expect(retryAfterSeconds(1001)).toBe(2);
    expect(retryAfterSeconds(19_990)).toBe(20);
  });

  it('counts IPv4 per address (also when mapped into IPv6) and IPv6 per /64', () => {
    const key = (ip: string | undefined) => clientKey({ ip, socket: {} } as unknown as Request);
    expect(key('203.0.113.7')).toBe('203.0.113.7');
    expect(key('::ffff:203.0.113.7')).toBe('203.0.113.7');
    expect(key('2001:db8:1:2::1')).toBe('2001:db8:1:2::/64');
    expect(key('2001:0DB8:0001:0002:ffff:0:0:9')).toBe('2001:db8:1:2::/64');
    expect(key('fe80::1%eth0')).toBe('fe80:0:0:0::/64');
    expect(key('::1')).toBe('0:0:0:0::/64');
    expect(key(undefined)).toBe('unknown');
  });

  it('refuses when any rule is used up, and then counts the request against none of them', () => {
    const c = clock();
    const roomy = new RateLimiter({ limit: 2, windowMs: 60_000, maxKeys: 10, now: c.now });
    const tight = new RateLimiter({ limit: 1, windowMs: 60_000, maxKeys: 10, now: c.now });
    const handler = rateLimit(
      { limiter: roomy, key: () => 'x', message: (s) => `roomy ${s}` },
      { limiter: tight, key: () => 'x', message: (s) => `tight ${s}` },
      { limiter: tight, key: () => null, message: () => 'never counted' },
    );
    const run = () => {
      let passed: unknown = 'not called';
      handler({} as Request, {} as Response, ((err?: unknown) => (passed = err)) as NextFunction);
      return passed;
    };
    expect(run()).toBeUndefined();
    const refused = run();
    expect(refused).toBeInstanceOf(TooManyRequestsError);
    expect(refused).toMatchObject({ status: 429, code: 'too_many_requests', retryAfterSeconds: 60, message: 'tight 60' });
    // The refused request did not use the roomy rule's second request.
    expect(roomy.waitMs('x')).toBe(0);
  });
});

/**
 * The Retry-After of a refusal: at most `full` seconds (the wait right after the limit was used up), less the time the
 * requests before it took on a busy machine. Returns it, for the messages that name it.
 */
function retryAfterOf(res: { status: number; headers: Headers }, full: number): number {
  expect(res.status).toBe(429);
  const seconds = Number(res.headers.get('retry-after'));
  expect(Number.isInteger(seconds)).toBe(true);
  expect(seconds).toBeGreaterThan(full - 10);
  expect(seconds).toBeLessThanOrEqual(full);
  return seconds;
}

/** The OpenAI emulator behind a counting proxy: every real-time call the tool makes passes here. */
async function countingProvider(): Promise<{ emulator: RunningEmulator; baseUrl: string; chatCalls: () => number; close(): Promise<void> }> {
  const emulator = await startEmulator({ port: 0, host: '127.0.0.1', timings: { validatingMs: 0, inProgressMs: 0, finalizingMs: 0 } });
  let calls = 0;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.method === 'POST' && req.url?.endsWith('/chat/completions')) calls++;
      const headers: Record<string, string> = {};
      for (const h of ['authorization', 'content-type']) if (typeof req.headers[h] === 'string') headers[h] = req.headers[h];
      fetch(`${emulator.url}${req.url}`, { method: req.method, headers, body: chunks.length ? Buffer.concat(chunks) : undefined })
        .then(async (upstream) => {
          res.writeHead(upstream.status, { 'content-type': upstream.headers.get('content-type') ?? 'application/json' });
          res.end(Buffer.from(await upstream.arrayBuffer()));
        })
        .catch(() => res.writeHead(502).end());
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    emulator,
    baseUrl: `http://127.0.0.1:${port}/v1`,
    chatCalls: () => calls,
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await emulator.close();
    },
  };
}

describe('per-IP limits on the open LTI endpoints', () => {
  let stack: Stack;
  const stateRows = async () => (await stack.db.db.execute<{ n: number }>(sql`select count(*)::int as n from states`)).rows[0]!.n;
  /** A login initiation as an LMS starts it, from a client address (the tool trusts the proxy's X-Forwarded-For). */
  const login = (from: string, method: 'GET' | 'POST' = 'GET') => {
    const reg = stack.devlms.devlms.toolRegistration();
    const params = new URLSearchParams({
      iss: reg.issuer,
      client_id: reg.clientId,
      login_hint: 'student1',
      // A target with a query: ltijs keeps it in a state row until the launch.
      target_link_uri: `${stack.toolUrl}/lti/launch?placement=course_navigation`,
    });
    const headers = { 'x-forwarded-for': from };
    return method === 'GET'
      ? fetch(`${stack.toolUrl}/lti/login?${params}`, { headers, redirect: 'manual' })
      : fetch(`${stack.toolUrl}/lti/login`, { method: 'POST', headers: { ...headers, 'content-type': 'application/x-www-form-urlencoded' }, body: params.toString(), redirect: 'manual' });
  };

  beforeAll(async () => {
    stack = await startStack({
      env: { TRUST_PROXY: 'true', RATE_LIMIT_LTI_LAUNCHES_PER_MINUTE: '3', RATE_LIMIT_LTI_KEYS_PER_MINUTE: '2', RATE_LIMIT_LTI_REGISTRATIONS_PER_MINUTE: '2' },
    });
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('answers the 4th login initiation from one address with 429 and Retry-After, and writes no state row for it', async () => {
    const before = await stateRows();
    for (let i = 0; i < 3; i++) {
      const res = await login('203.0.113.7', i === 1 ? 'POST' : 'GET');
      expect(res.status).toBe(302);
      expect(new URL(res.headers.get('location')!).origin).toBe(stack.devlmsUrl);
    }
    expect(await stateRows()).toBe(before + 3);

    const refused = await login('203.0.113.7');
    const wait = retryAfterOf(refused, 20);
    expect(refused.headers.get('cache-control')).toBe('no-store');
    const page = await refused.text();
    expect(page).toContain('<h1 id="error-title">Too many requests</h1>');
    expect(page).toContain(`Too many launches from your network at once. Please open the tool again from your course in ${wait} seconds.`);
    expect((await login('203.0.113.7', 'POST')).status).toBe(429);
    expect(await stateRows()).toBe(before + 3);

    // Another address has its own budget.
    expect((await login('198.51.100.1')).status).toBe(302);
    expect(await stateRows()).toBe(before + 4);
  });

  it('counts IPv6 clients per /64', async () => {
    for (const ip of ['2001:db8:7:1::1', '2001:db8:7:1::ffff', '2001:db8:7:1:aaaa::1']) expect((await login(ip)).status).toBe(302);
    expect((await login('2001:db8:7:1::9')).status).toBe(429);
    expect((await login('2001:db8:7:2::1')).status).toBe(302);
  });

  it('limits launch posts per address on their own budget, and answers JSON to a client that asks for it', async () => {
    for (let i = 0; i < 3; i++) {
      const res = await fetch(`${stack.toolUrl}/lti/launch`, { method: 'POST', headers: { 'x-forwarded-for': '203.0.113.7', 'content-type': 'application/x-www-form-urlencoded' }, body: 'error=login_required', redirect: 'manual' });
      // The platform's error answer, shown as a page: the login limit of this address did not touch launches.
      expect(res.status).toBe(401);
    }
    const refused = await fetch(`${stack.toolUrl}/lti/launch`, {
      method: 'POST',
      headers: { 'x-forwarded-for': '203.0.113.7', 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: 'error=login_required',
      redirect: 'manual',
    });
    retryAfterOf(refused, 20);
    expect(await refused.json()).toEqual({ error: { code: 'too_many_requests', message: expect.stringContaining('Too many launches from your network') } });
  });

  it('limits the public keys and dynamic registration links per address', async () => {
    const keys = () => fetch(`${stack.toolUrl}/lti/keys`, { headers: { 'x-forwarded-for': '192.0.2.10' } });
    expect((await keys()).status).toBe(200);
    expect((await keys()).status).toBe(200);
    retryAfterOf(await keys(), 30);

    const register = () => fetch(`${stack.toolUrl}/lti/dynamic-registration/not-a-token`, { headers: { 'x-forwarded-for': '192.0.2.10' } });
    for (let i = 0; i < 2; i++) expect((await register()).status).not.toBe(429);
    const refused = await register();
    const wait = retryAfterOf(refused, 30);
    expect(await refused.text()).toContain(`Too many registration attempts from your network. Try again in ${wait} seconds.`);
  });

  it('purges login states once their cookie is gone, keeping fresh ones (every minute, in the worker)', async () => {
    expect(ALL_JOBS).toContain(purgeLtiStatesJob);
    expect(purgeLtiStatesJob.every).toBe('1 minute');
    const rows = (await stack.db.db.execute<{ state: string }>(sql`select state from states order by "createdAt"`)).rows.map((r) => r.state);
    expect(rows.length).toBeGreaterThanOrEqual(2);
    const [old, justInside] = rows as [string, string];
    // The state cookie lives 10 minutes: after that no launch can use the row.
    await stack.db.db.execute(sql`update states set "createdAt" = now() - interval '10 minutes 5 seconds' where state = ${old}`);
    await stack.db.db.execute(sql`update states set "createdAt" = now() - interval '9 minutes 30 seconds' where state = ${justInside}`);
    await purgeLtiStatesJob.handle({ db: stack.db.db, logger: silentLogger }, {});
    const left = (await stack.db.db.execute<{ state: string }>(sql`select state from states`)).rows.map((r) => r.state).sort();
    expect(left).toEqual(rows.filter((s) => s !== old).sort());
    // Idempotent: nothing more to remove.
    await purgeLtiStatesJob.handle({ db: stack.db.db, logger: silentLogger }, {});
    expect(await stateRows()).toBe(rows.length - 1);
  });
});

describe('per-person limits: submissions, sample tests, API writes', () => {
  let stack: Stack;
  let provider: Awaited<ReturnType<typeof countingProvider>>;
  let home: Home;
  let student1: ToolSession;
  let student2: ToolSession;
  let instructor: ToolSession;
  let secondInstructor: ToolSession;
  let admin: ToolSession;
  let taskId: number;
  const submissionsOf = async (sub: string) =>
    (await stack.db.db.execute<{ n: number }>(sql`select count(*)::int as n from submissions s join users u on u.id = s.student_id where u.sub like ${'%' + sub}`)).rows[0]!.n;

  beforeAll(async () => {
    provider = await countingProvider();
    stack = await startStack({
      env: {
        OPENAI_BASE_URL: provider.baseUrl,
        EMULATOR_URL: provider.emulator.url,
        RATE_LIMIT_SUBMISSIONS_PER_MINUTE: '2',
        RATE_LIMIT_SAMPLE_TESTS_PER_MINUTE: '2',
        RATE_LIMIT_COURSE_SAMPLE_TESTS_PER_MINUTE: '3',
        RATE_LIMIT_API_WRITES_PER_MINUTE: '3',
      },
    });
    instructor = await stack.browser().launch(stack.devlmsUrl, 'instructor', { task: '1' });
    secondInstructor = await launchWith(stack, stack.browser(), 'instructor', { task: '1' }, { sub: 'second-instructor-of-course-101', name: 'Sam Second' });
    student1 = await stack.browser().launch(stack.devlmsUrl, 'student1', { task: '1' });
    student2 = await stack.browser().launch(stack.devlmsUrl, 'student2', { task: '1' });
    admin = await stack.browser().launch(stack.devlmsUrl, 'admin');
    home = await homeIds(stack);
    taskId = (await seededTasks(stack))[0]!.id;
    await allowLlm(stack.db.db, home.courseId, home.instructorId);
    await activatePrompt(stack.db.db, home, home.taskId);
    await setMaxAttempts(stack.db.db, home.taskId, 10);
  }, 60_000);
  afterAll(async () => {
    await stack?.close();
    await provider?.close();
  });

  it('refuses a student submitting too fast with 429 (in the page’s alert region), leaving other students alone', async () => {
    const path = `/student/tasks/${home.taskId}/submissions`;
    expect((await postMultipart(student1, path, { text: 'First answer.' })).status).toBe(201);
    expect((await postMultipart(student1, path, { text: 'Second answer.' })).status).toBe(201);
    const refused = await postMultipart(student1, path, { text: 'Third answer.' });
    // Two a minute: the next one 30 seconds after the first.
    const wait = retryAfterOf(refused, 30);
    expect(refused.headers.get('hx-retarget')).toBe('#flash');
    expect(refused.html).toContain(`<strong>Too many requests:</strong> You are submitting too quickly. Please wait ${wait} seconds and submit again.`);
    expect(refused.html).not.toContain('<html');
    // Without htmx: the error page.
    const plain = await postMultipart(student1, path, { text: 'Fourth answer.' }, undefined, { htmx: false });
    expect(plain.status).toBe(429);
    expect(plain.html).toContain('<h1 id="error-title">Too many requests</h1>');
    expect(await submissionsOf('5e02')).toBe(2);

    expect((await postMultipart(student2, path, { text: 'My own answer.' })).status).toBe(201);
    expect(await submissionsOf('5e03')).toBe(1);
  });

  it('counts file previews apart from submissions: too many are refused with 429, and the student can still submit', async () => {
    const preview = `/student/tasks/${home.taskId}/submissions/preview`;
    const file = { name: 'answer.py', type: 'text/x-python', bytes: 'print("hello")\n' };
    expect((await postMultipart(student2, preview, {}, file)).status).toBe(200);
    expect((await postMultipart(student2, preview, {}, file)).status).toBe(200);
    const refused = await postMultipart(student2, preview, {}, file);
    const wait = retryAfterOf(refused, 30);
    expect(refused.html).toContain(`You are checking files too quickly. Please wait ${wait} seconds and choose the file again.`);
    // Its own counter: student2's second submission of the minute still goes in.
    expect((await postMultipart(student2, `/student/tasks/${home.taskId}/submissions`, { text: 'A second answer.' })).status).toBe(201);
    expect(await submissionsOf('5e03')).toBe(2);
  });

  it('refuses sample tests beyond the limit per person (editor and API together) and per course, calling nothing', async () => {
    const page = `/instructor/tasks/${taskId}/prompt/test`;
    const api = `/api/tasks/${taskId}/llm-prompt/test/`;
    const form = promptForm({}, { 'samples[0]': 'The Estates-General deadlocked.' });
    expect((await instructor.post(page, form, { htmx: true })).status).toBe(200);
    expect((await instructor.request(api, { method: 'POST', json: { samples: ['A second answer.'] } })).status).toBe(200);
    expect(provider.chatCalls()).toBe(2);

    const refused = await instructor.post(page, form, { htmx: true });
    const wait = retryAfterOf(refused, 30);
    expect(refused.headers.get('hx-retarget')).toBe('#flash');
    expect(refused.html).toContain(`You have used up your sample tests for now (2 a minute). Try again in ${wait} seconds.`);
    const refusedApi = await instructor.request(api, { method: 'POST', json: { samples: ['Again.'] } });
    const apiWait = retryAfterOf(refusedApi, wait);
    expect(refusedApi.json()).toEqual({ error: { code: 'too_many_requests', message: `You have used up your sample tests for now (2 a minute). Try again in ${apiWait} seconds.` } });
    expect(provider.chatCalls()).toBe(2);

    // Another instructor of the course has their own budget, but the course's (3 a minute) runs out.
    expect((await secondInstructor.post(page, form, { htmx: true })).status).toBe(200);
    expect(provider.chatCalls()).toBe(3);
    const course = await secondInstructor.post(page, form, { htmx: true });
    const courseWait = retryAfterOf(course, 20);
    expect(course.html).toContain(`This course has used up its sample tests for now (3 a minute for all its instructors). Try again in ${courseWait} seconds.`);
    expect(provider.chatCalls()).toBe(3);
  });

  it('limits JSON API writes per person, never reads', async () => {
    const write = () => admin.request('/api/admin/llm-queue/999999/notes/', { method: 'POST', json: { notes: 'x' } });
    for (let i = 0; i < 3; i++) expect((await write()).status).toBe(404);
    const refused = await write();
    const wait = retryAfterOf(refused, 20);
    expect(refused.json<{ error: { code: string; message: string } }>().error).toEqual({ code: 'too_many_requests', message: `Too many changes through the API (at most 3 a minute). Retry after ${wait} seconds.` });
    for (let i = 0; i < 5; i++) expect((await admin.get('/api/session')).status).toBe(200);
    expect((await admin.get('/api/admin/llm-queue/')).status).toBe(200);
    // Someone else's writes are theirs to count.
    const saved = await secondInstructor.request(`/api/tasks/${taskId}/llm-prompt/`, {
      method: 'POST',
      json: { template: 'Grade it.\n{student_submission}', model: 'gpt-4o-mini', rubric: [{ name: 'Content', maxPoints: 5 }], note: 'API write' },
    });
    expect(saved.status).toBe(201);
  });
});

describe('the sample-test budget', () => {
  let stack: Stack;
  let provider: Awaited<ReturnType<typeof countingProvider>>;
  let instructor: ToolSession;
  let task: { id: number; title: string };
  const SAMPLE = 'The Revolution began because the Estates-General deadlocked.';

  beforeAll(async () => {
    provider = await countingProvider();
    stack = await startStack({ env: { OPENAI_BASE_URL: provider.baseUrl, EMULATOR_URL: provider.emulator.url, SAMPLE_TEST_MAX_CHARS: '2000', SAMPLE_TEST_MAX_COST_MICROS: '5000' } });
    instructor = await stack.browser().launch(stack.devlmsUrl, 'instructor', { task: '1' });
    task = (await seededTasks(stack))[0]!;
  });
  afterAll(async () => {
    await stack?.close();
    await provider?.close();
  });

  const page = () => `/instructor/tasks/${task.id}/prompt`;
  const api = () => `/api/tasks/${task.id}/llm-prompt/test/`;

  it('refuses samples longer than a test takes, whatever the submission limit, before any call', async () => {
    const long = 'x'.repeat(2001);
    const res = await instructor.post(`${page()}/test`, promptForm({}, { 'samples[0]': SAMPLE, 'samples[3]': long }), { htmx: true });
    expect(res.status).toBe(422);
    expect(res.html).toContain('<li data-field="samples.3">Sample 4 has 2,001 characters; a test takes samples of at most 2,000.</li>');
    const json = await instructor.request(api(), { method: 'POST', json: { samples: [long], prompt: { template: '{student_submission}', model: 'gpt-4o-mini', rubric: [{ name: 'Content', maxPoints: 5 }] } } });
    expect(json.status).toBe(422);
    expect(json.json<{ error: { fields: Record<string, string> } }>().error.fields).toEqual({ 'samples.0': 'Sample 1 has 2,001 characters; a test takes samples of at most 2,000.' });
    expect(provider.chatCalls()).toBe(0);
  });

  it('refuses a test whose worst case (input tokens + max output tokens, real-time prices) is over the cap, before any call', async () => {
    const res = await instructor.post(`${page()}/test`, promptForm({ maxOutputTokens: '16000' }, { 'samples[0]': SAMPLE }), { htmx: true });
    expect(res.status).toBe(422);
    const preview = await instructor.post(`${page()}/preview`, promptForm({ maxOutputTokens: '16000' }, { 'samples[0]': SAMPLE }), { htmx: true });
    const inputTokens = Number(preview.html.match(/data-input-tokens="(\d+)"/)?.[1]);
    const worst = estimateCostMicros({ inputTokens, outputTokens: 16_000 }, 'gpt-4o-mini', 'standard');
    expect(worst).toBeGreaterThan(5000);
    expect(res.html).toContain(
      `<li data-field="samples">This test could cost up to ${formatUsd(worst)} at real-time prices (1 sample: ${inputTokens} input tokens in all, and up to 16,000 output tokens per sample), more than the $0.0050 one test may cost.`,
    );
    // The preview says so before anyone runs the test.
    expect(preview.html).toContain(`data-worst-cost-micros="${worst}" data-max-cost-micros="5000"`);
    expect(preview.html).toContain('<strong>A test on these samples would be refused:</strong>');

    const body = { samples: [SAMPLE, SAMPLE], prompt: { template: 'Grade {task_title}.\n{student_submission}', model: 'gpt-4o-mini', maxOutputTokens: 5000, rubric: [{ name: 'Content', maxPoints: 5 }] } };
    const json = await instructor.request(api(), { method: 'POST', json: body });
    expect(json.status).toBe(422);
    const error = json.json<{ error: { code: string; message: string; fields: Record<string, string> } }>().error;
    expect(error.code).toBe('invalid');
    expect(error.message).toBe('Nothing was tested: the test is over its limits (see the samples).');
    expect(error.fields.samples).toMatch(/^This test could cost up to \$0\.00\d+ at real-time prices \(2 samples: \d+ input tokens in all, and up to 5,000 output tokens per sample\), more than the \$0\.0050 one test may cost\./);
    expect(provider.chatCalls()).toBe(0);
  });

  it('runs a test within the budget, having shown its worst case and the cap in the preview', async () => {
    const preview = await instructor.post(`${page()}/preview`, promptForm({}, { 'samples[0]': SAMPLE, 'samples[1]': 'A second answer.' }), { htmx: true });
    expect(preview.status).toBe(200);
    const worst = Number(preview.html.match(/data-worst-cost-micros="(\d+)"/)?.[1]);
    expect(worst).toBeGreaterThan(2 * estimateCostMicros({ inputTokens: 0, outputTokens: 1500 }, 'gpt-4o-mini', 'standard'));
    expect(worst).toBeLessThanOrEqual(5000);
    expect(preview.html).toMatch(/Testing on the 2 samples pasted costs at most <strong id="prompts-test-worst-cost">\$0\.00\d+<\/strong> at real-time prices \([\d,]+ input tokens and at most 3,000 output tokens in all\); one test may cost up to <strong id="prompts-test-max-cost">\$0\.0050<\/strong>\./);
    expect(preview.html).not.toContain('would be refused');

    const res = await instructor.post(`${page()}/test`, promptForm({}, { 'samples[0]': SAMPLE, 'samples[1]': 'A second answer.' }), { htmx: true });
    expect(res.status).toBe(200);
    expect(provider.chatCalls()).toBe(2);
  });
});
