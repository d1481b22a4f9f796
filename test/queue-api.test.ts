import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { sql } from 'drizzle-orm';
import { startStack, type Stack } from './helpers/stack.js';
import type { ToolSession } from './helpers/lti-browser.js';
import { activatePrompt, allowLlm, homeIds, submitMany, userIdOf, type Home } from './helpers/queue-fixtures.js';
import { textOf } from './helpers/html.js';

type ApiError = { error: { code: string; message: string; fields?: Record<string, string> } };

/** The JSON API of the queue and batches: administrators of the platform only, zod-checked, same rules as the pages. */
describe('queue and batches JSON API', () => {
  let stack: Stack;
  let admin: ToolSession;
  let student: ToolSession;
  let home: Home;
  let items: number[];

  beforeAll(async () => {
    stack = await startStack({ env: { BATCH_MIN_SIZE: '2', BATCH_MAX_SIZE: '10' } });
    await stack.browser().launch(stack.devlmsUrl, 'instructor', { task: '1' });
    student = await stack.browser().launch(stack.devlmsUrl, 'student1', { task: '1' });
    admin = await stack.browser().launch(stack.devlmsUrl, 'admin');
    home = await homeIds(stack);
    await allowLlm(stack.db.db, home.courseId, home.instructorId);
    await activatePrompt(stack.db.db, home, home.taskId);
    items = await submitMany(stack, home, home.taskId, await userIdOf(stack, '5e02'), 8);
  }, 60_000);
  afterAll(async () => {
    await stack?.close();
  });

  const api = (method: string, path: string, json?: unknown, who: ToolSession = admin) => who.request(path, { method, ...(json !== undefined ? { json } : {}) });

  it('lists the queue with filters, paging, totals and statistics', async () => {
    const res = await api('GET', `/api/admin/llm-queue/?task=${home.taskId}&pageSize=25&sort=oldest`);
    expect(res.status).toBe(200);
    const body = res.json<{ items: Array<{ id: number; status: string; estCostMicros: number; task: { id: number } }>; total: number; pages: number; stats: { pending: number; oldestQueuedAt: string } }>();
    expect(body.total).toBe(8);
    expect(body.pages).toBe(1);
    expect(body.items.map((i) => i.id)).toEqual(items);
    expect(body.items[0]).toMatchObject({ status: 'queued', task: { id: home.taskId } });
    expect(body.items[0]!.estCostMicros).toBeGreaterThan(0);
    expect(body.stats.pending).toBe(8);
    expect(Date.parse(body.stats.oldestQueuedAt)).not.toBeNaN();
    const none = await api('GET', '/api/admin/llm-queue?priority=high');
    expect(none.json<{ total: number }>().total).toBe(0);
  });

  it('answers a bad query with 422 and the parameter named', async () => {
    const res = await api('GET', '/api/admin/llm-queue/?pageSize=13&status=lost');
    expect(res.status).toBe(422);
    const body = res.json<ApiError>();
    expect(body.error.code).toBe('invalid');
    expect(Object.keys(body.error.fields!).sort()).toEqual(['pageSize', 'status']);
  });

  it('changes priority and notes of one item, and removes one', async () => {
    const p = await api('POST', `/api/admin/llm-queue/${items[0]}/priority/`, { priority: 'high' });
    expect(p.status).toBe(200);
    expect(p.json<{ item: { priority: string } }>().item.priority).toBe('high');
    const n = await api('POST', `/api/admin/llm-queue/${items[0]}/notes/`, { notes: 'urgent: resit' });
    expect(n.json<{ item: { notes: string } }>().item.notes).toBe('urgent: resit');
    const d = await api('DELETE', `/api/admin/llm-queue/${items[7]}/`);
    expect(d.status).toBe(200);
    expect(d.json<{ item: { status: string } }>().item.status).toBe('skipped');
    // Removing it again: it is not queued any more.
    const again = await api('DELETE', `/api/admin/llm-queue/${items[7]}/`);
    expect(again.status).toBe(409);
    expect(again.json<ApiError>().error.message).toContain('is skipped');
  });

  it('refuses invalid bodies and unknown ids, changing nothing', async () => {
    const before = (await stack.db.db.execute(sql`select id, priority, admin_notes, status from queue_items order by id`)).rows;
    const bad = await api('POST', `/api/admin/llm-queue/${items[1]}/priority/`, { priority: 'urgent' });
    expect(bad.status).toBe(422);
    expect(bad.json<ApiError>().error.fields).toEqual({ priority: 'priority must be high, normal or low.' });
    const notes = await api('POST', `/api/admin/llm-queue/${items[1]}/notes/`, { notes: 42 });
    expect(notes.status).toBe(422);
    const unknown = await api('POST', '/api/admin/llm-queue/999999/priority/', { priority: 'low' });
    expect(unknown.status).toBe(404);
    const notNumber = await api('DELETE', '/api/admin/llm-queue/abc/');
    expect(notNumber.status).toBe(404);
    expect((await stack.db.db.execute(sql`select id, priority, admin_notes, status from queue_items order by id`)).rows).toEqual(before);
  });

  it('is for administrators only', async () => {
    const res = await api('GET', '/api/admin/llm-queue/', undefined, student);
    expect(res.status).toBe(403);
    expect(res.json<ApiError>().error.code).toBe('forbidden');
  });

  it('creates a batch, submits it once, reports its status, lists it and cancels another', async () => {
    // With the cost optimizer's policy: the course approves OpenAI only, so the batch stays there and its page says why.
    const created = await api('POST', '/api/admin/llm-batches/create/', { ids: items.slice(0, 3), notes: 'api run', providerPolicy: 'cheapest_in_time', targetTurnaroundHours: 6 });
    expect(created.status).toBe(201);
    const [batch] = created.json<{ batches: Array<{ id: number; status: string; requestCounts: { total: number }; estCostMicros: number; notes: string }> }>().batches;
    expect(batch).toMatchObject({ status: 'created', requestCounts: { total: 3 }, notes: 'api run' });
    expect(batch!.estCostMicros).toBeGreaterThan(0);
    const page = textOf((await admin.get(`/admin/batches/${batch!.id}`)).html);
    expect(page).toContain('Why this provider');
    expect(page).toMatch(/OpenAI \(gpt-4o-mini\): \$[\d.]+, p95 24\.0 h \(assumed\)\. Sent to OpenAI \(gpt-4o-mini\) — all items: the only option their courses approve\./);

    const submitted = await api('POST', `/api/admin/llm-batches/${batch!.id}/submit/`);
    expect(submitted.status).toBe(202);
    expect(submitted.json<{ batch: { submitRequestedAt: string | null } }>().batch.submitRequestedAt).not.toBeNull();
    const twice = await api('POST', `/api/admin/llm-batches/${batch!.id}/submit/`);
    expect(twice.status).toBe(409);

    const status = await api('GET', `/api/admin/llm-batches/${batch!.id}/status/`);
    expect(status.status).toBe(200);
    expect(status.json<{ requests: { total: number; pending: number } }>().requests).toMatchObject({ total: 3, pending: 3 });

    const other = await api('POST', '/api/admin/llm-batches/create/', { scope: 'all', filter: { task: home.taskId } });
    expect(other.status).toBe(201);
    const [second] = other.json<{ batches: Array<{ id: number; requestCounts: { total: number } }> }>().batches;
    expect(second!.requestCounts.total).toBe(4);
    const cancelled = await api('POST', `/api/admin/llm-batches/${second!.id}/cancel/`);
    expect(cancelled.status).toBe(202);
    expect(cancelled.json<{ batch: { status: string } }>().batch.status).toBe('cancelled');
    const cancelledAgain = await api('POST', `/api/admin/llm-batches/${second!.id}/cancel/`);
    expect(cancelledAgain.status).toBe(409);

    const list = await api('GET', '/api/admin/llm-batches/?pageSize=1');
    expect(list.json<{ total: number; batches: unknown[] }>()).toMatchObject({ total: 2 });
    expect(list.json<{ batches: unknown[] }>().batches).toHaveLength(1);
  });

  it('lets only one of two simultaneous batch requests for the same items through', async () => {
    const more = await submitMany(stack, home, home.taskId, await userIdOf(stack, '5e02'), 2);
    const before = Number((await stack.db.db.execute<{ n: number }>(sql`select count(*)::int as n from batches`)).rows[0]!.n);
    const [a, b] = await Promise.all([api('POST', '/api/admin/llm-batches/create/', { ids: more }), api('POST', '/api/admin/llm-batches/create/', { ids: more })]);
    expect([a.status, b.status].sort()).toEqual([201, 409]);
    const after = await stack.db.db.execute<{ n: number; requests: number }>(sql`
      select (select count(*)::int from batches) as n, (select count(*)::int from batch_requests where queue_item_id = any(${sql.param(more)}::bigint[])) as requests`);
    expect(after.rows[0]).toEqual({ n: before + 1, requests: 2 });
  });

  it('refuses bad batch requests with clear errors, changing nothing', async () => {
    const before = (await stack.db.db.execute(sql`select id, status, batch_id from queue_items order by id`)).rows;
    const empty = await api('POST', '/api/admin/llm-batches/create/', { ids: [] });
    expect(empty.status).toBe(422);
    const wrongType = await api('POST', '/api/admin/llm-batches/create/', { ids: 'all' });
    expect(wrongType.status).toBe(422);
    expect(wrongType.json<ApiError>().error.fields).toHaveProperty('ids');
    const taken = await api('POST', '/api/admin/llm-batches/create/', { ids: items.slice(0, 3) });
    expect(taken.status).toBe(409);
    const policy = await api('POST', '/api/admin/llm-batches/create/', { ids: items.slice(3, 6), providerPolicy: 'fastest' });
    expect(policy.status).toBe(422);
    expect(policy.json<ApiError>().error.fields).toHaveProperty('providerPolicy');
    const size = await api('POST', '/api/admin/llm-batches/create/', { ids: items.slice(3, 6), maxPerBatch: 11 });
    expect(size.status).toBe(422);
    expect(size.json<ApiError>().error.fields).toEqual({ maxPerBatch: 'Choose between 2 and 10 requests per batch.' });
    const unknownBatch = await api('GET', '/api/admin/llm-batches/999999/status/');
    expect(unknownBatch.status).toBe(404);
    const badPage = await api('GET', '/api/admin/llm-batches/?page=0');
    expect(badPage.status).toBe(422);
    expect((await stack.db.db.execute(sql`select id, status, batch_id from queue_items order by id`)).rows).toEqual(before);
  });

  it('reuses its figures for a few seconds, yet shows a change made through this process at once', async () => {
    const pending = async () => (await api('GET', '/api/admin/llm-queue/')).json<{ stats: { pending: number } }>().stats.pending;
    const queued = (await stack.db.db.execute<{ id: number }>(sql`select id from queue_items where status = 'queued' and task_id = ${home.taskId} order by id limit 2`)).rows.map((r) => Number(r.id));
    expect(queued).toHaveLength(2);
    const before = await pending();
    // Changed behind this process's back (as another web process or a worker would): the figures are reused.
    await stack.db.db.execute(sql`update queue_items set status = 'skipped', updated_at = now() where id = ${queued[0]!}`);
    expect(await pending()).toBe(before);
    // Changed through it: the cached figures are dropped once the change commits, and both changes show.
    expect((await api('DELETE', `/api/admin/llm-queue/${queued[1]!}/`)).status).toBe(200);
    expect(await pending()).toBe(before - 2);
  });
});
