import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { sql } from 'drizzle-orm';
import { sendBatch } from '../src/models/batches/batch-send.service.js';
import { startStack, type Stack } from './helpers/stack.js';
import type { ToolSession } from './helpers/lti-browser.js';
import { activatePrompt, allowLlm, homeIds, submitMany, userIdOf, type Home } from './helpers/queue-fixtures.js';
import { drive, FAST_BATCH_ENV, submitSteps, testWorker } from './helpers/batch-driver.js';
import { textOf } from './helpers/html.js';
import { promptForm } from './helpers/prompts.js';

type ApiError = { error: { code: string; message: string } };

/**
 * Issue 16, item 1 (the part that lost money): a batch created before a freeze was confirmed, sent and completed
 * while the budget was frozen, and sample tests ran while frozen. A freeze now stops confirming, sending and
 * sample tests, from the moment it is set; a batch already at the provider is not affected (its money is spent).
 */
describe('a budget freeze halts spending', () => {
  let stack: Stack;
  let admin: ToolSession;
  let instructor: ToolSession;
  let home: Home;
  let budgetId: number;
  const freeze = async (frozen: boolean) => expect((await admin.post(`/admin/costs/budgets/${budgetId}/freeze`, { frozen: String(frozen) }, { htmx: true })).status).toBe(200);
  const batchRow = async (id: number) =>
    (await stack.db.db.execute<{ status: string; provider_batch_id: string | null; error: string | null; submit_requested_at: Date | null }>(sql`
      select status, provider_batch_id, error, submit_requested_at from batches where id = ${id}`)).rows[0]!;
  const createBatch = async () => {
    const created = await admin.request('/api/admin/llm-batches/create/', { method: 'POST', json: { scope: 'all' } });
    expect(created.status).toBe(201);
    return created.json<{ batches: Array<{ id: number }> }>().batches[0]!.id;
  };

  beforeAll(async () => {
    // No job runner: each step runs when the test says (a confirmation's kick has no worker to wake).
    // Overrides capped at $0.0005 a month: two of this task's items fit (about $0.0002 each), four do not.
    stack = await startStack({ emulator: true, env: { ...FAST_BATCH_ENV, BUDGET_OVERRIDE_MONTHLY_CAP_MICROS: '500' } });
    instructor = await stack.browser().launch(stack.devlmsUrl, 'instructor', { task: '1' });
    await stack.browser().launch(stack.devlmsUrl, 'student1', { task: '1' });
    await stack.browser().launch(stack.devlmsUrl, 'student2', { task: '1' });
    admin = await stack.browser().launch(stack.devlmsUrl, 'admin');
    home = await homeIds(stack);
    await allowLlm(stack.db.db, home.courseId, home.instructorId);
    await activatePrompt(stack.db.db, home, home.taskId);
    await submitMany(stack, home, home.taskId, await userIdOf(stack, '5e02'), 2);
    const month = (await stack.db.db.execute<{ m: string }>(sql`select to_char(now(), 'YYYY-MM') as m`)).rows[0]!.m;
    expect((await admin.post('/admin/costs/budgets', { scope: `course-${home.courseId}`, month, limit: '50' }, { htmx: true })).status).toBe(200);
    budgetId = Number((await stack.db.db.execute<{ id: number }>(sql`select id from budgets where course_id = ${home.courseId}`)).rows[0]!.id);
  }, 60_000);
  afterAll(async () => {
    await stack?.close();
  });

  it('refuses to confirm a batch made before the freeze, on the page and in the API', async () => {
    const id = await createBatch();
    await freeze(true);
    const api = await admin.request(`/api/admin/llm-batches/${id}/submit/`, { method: 'POST', json: {} });
    expect(api.status).toBe(409);
    expect(api.json<ApiError>().error.message).toMatch(/budget of course ".*" for this month is frozen/);
    const page = await admin.post(`/admin/batches/${id}/submit`, {}, { htmx: true });
    expect(page.status).toBe(409);
    expect(textOf(page.html)).toContain('is frozen');
    expect(await batchRow(id)).toMatchObject({ status: 'created', submit_requested_at: null, provider_batch_id: null });
    await freeze(false);
    expect((await admin.request(`/api/admin/llm-batches/${id}/submit/`, { method: 'POST', json: {} })).status).toBe(202);
    await drive(testWorker(stack.db.db, stack.config), submitSteps([id]));
    expect((await batchRow(id)).provider_batch_id).not.toBeNull();
  });

  it('holds a confirmed batch unsent when the freeze comes before the send, and sends it once unfrozen', async () => {
    await submitMany(stack, home, home.taskId, await userIdOf(stack, '5e03'), 2);
    const id = await createBatch();
    expect((await admin.request(`/api/admin/llm-batches/${id}/submit/`, { method: 'POST', json: {} })).status).toBe(202);
    await freeze(true);
    const worker = testWorker(stack.db.db, stack.config);
    const next = await sendBatch(worker, id);
    expect(next).toEqual([{ step: 'submit', batchId: id, at: expect.any(Date) }]);
    const held = await batchRow(id);
    expect(held).toMatchObject({ status: 'created', provider_batch_id: null });
    expect(held.error).toMatch(/^Held, not sent: The budget of course ".*" for this month is frozen/);
    expect(textOf((await admin.get(`/admin/batches/${id}`)).html)).toContain('Held, not sent');
    // The Costs page lists it as held by the freeze, to be sent once unfrozen.
    const costs = await admin.get('/admin/costs');
    expect(costs.status).toBe(200);
    const row = textOf(costs.html.slice(costs.html.indexOf(`id="costs-open-${id}"`), costs.html.indexOf('</tr>', costs.html.indexOf(`id="costs-open-${id}"`))));
    expect(row).toContain('Held by a freeze');
    expect(row).toMatch(/The budget of course ".*" for this month is frozen/);
    expect(textOf(costs.html)).toMatch(/1 held by a freeze \(sent once their budget is unfrozen, or cancel them\)/);
    // Looked at again while still frozen: still held, still nothing at the provider.
    await new Promise((r) => setTimeout(r, 100));
    await sendBatch(worker, id);
    expect((await batchRow(id)).provider_batch_id).toBeNull();

    await freeze(false);
    await new Promise((r) => setTimeout(r, 100));
    await drive(worker, submitSteps([id]));
    expect(await batchRow(id)).toMatchObject({ status: expect.not.stringMatching(/^created$/), error: null });
    expect((await batchRow(id)).provider_batch_id).not.toBeNull();
  });

  it('holds a batch whose first send failed when the freeze comes before its retry', async () => {
    await submitMany(stack, home, home.taskId, await userIdOf(stack, '5e02'), 1);
    const id = await createBatch();
    expect((await admin.request(`/api/admin/llm-batches/${id}/submit/`, { method: 'POST', json: {} })).status).toBe(202);
    const worker = testWorker(stack.db.db, stack.config);
    stack.emulator!.setFaults({ uploadFailures: { count: 1, status: 500 } });
    try {
      const retry = await sendBatch(worker, id);
      expect(retry).toEqual([{ step: 'submit', batchId: id, at: expect.any(Date) }]);
    } finally {
      stack.emulator!.setFaults({});
    }
    expect(await batchRow(id)).toMatchObject({ status: 'created', provider_batch_id: null });
    await freeze(true);
    // The retry is due (its backoff, kept as the lease, has run out).
    await stack.db.db.execute(sql`update batches set lease_expires_at = null, lease_owner = null where id = ${id}`);
    await sendBatch(worker, id);
    const held = await batchRow(id);
    expect(held).toMatchObject({ status: 'created', provider_batch_id: null });
    expect(held.error).toMatch(/^Held, not sent: The budget of course ".*" for this month is frozen/);
    await freeze(false);
    await new Promise((r) => setTimeout(r, 100));
    await drive(worker, submitSteps([id]));
    expect((await batchRow(id)).provider_batch_id).not.toBeNull();
  });

  it('lists batches at the provider during a freeze on the Costs page, and cancels one or a held one there with one click', async () => {
    await submitMany(stack, home, home.taskId, await userIdOf(stack, '5e02'), 2);
    const running = await createBatch();
    expect((await admin.request(`/api/admin/llm-batches/${running}/submit/`, { method: 'POST', json: {} })).status).toBe(202);
    await sendBatch(testWorker(stack.db.db, stack.config), running);
    expect((await batchRow(running)).status).toBe('submitted');
    await submitMany(stack, home, home.taskId, await userIdOf(stack, '5e02'), 1);
    const unsent = await createBatch();
    await freeze(true);

    const costs = await admin.get('/admin/costs');
    const rowOf = (html: string, id: number) => textOf(html.slice(html.indexOf(`id="costs-open-${id}"`), html.indexOf('</tr>', html.indexOf(`id="costs-open-${id}"`))));
    expect(rowOf(costs.html, running)).toContain('At the provider: validating');
    expect(rowOf(costs.html, unsent)).toContain('Awaiting confirmation');
    expect(textOf(costs.html)).toContain('1 at the provider (a freeze does not stop these: cancel one to stop it');

    const stop = await admin.post(`/admin/costs/batches/${running}/cancel`, {}, { htmx: true });
    expect(stop.status).toBe(200);
    expect(textOf(stop.html)).toContain(`Batch ${running}: the provider is asked to cancel it.`);
    expect(rowOf(stop.html, running)).toContain('Being cancelled');
    expect((await stack.db.db.execute<{ c: Date | null }>(sql`select cancel_requested_at as c from batches where id = ${running}`)).rows[0]!.c).not.toBeNull();

    const drop = await admin.post(`/admin/costs/batches/${unsent}/cancel`, {}, { htmx: true });
    expect(drop.status).toBe(200);
    expect(textOf(drop.html)).toContain(`Batch ${unsent} cancelled before it was sent: its items are back in the queue and its reservation released.`);
    expect(drop.html).not.toContain(`id="costs-open-${unsent}"`);
    expect((await batchRow(unsent)).status).toBe('cancelled');
    // Its page gives the reason as a reason, not as a failure.
    const monitor = textOf((await admin.get(`/admin/batches/${unsent}`)).html);
    expect(monitor).toContain('Cancelled by an administrator before it was sent.');
    expect(monitor).not.toContain('What went wrong');
    const reserved = await stack.db.db.execute<{ n: number }>(sql`
      select coalesce(sum(case when kind = 'release' then -amount_micros else amount_micros - settled_micros end), 0)::int8 as n from cost_ledger where batch_id = ${unsent}`);
    expect(Number(reserved.rows[0]!.n)).toBe(0);

    // A second click on a finished batch is refused with the reason, nothing changes.
    const again = await admin.post(`/admin/costs/batches/${unsent}/cancel`, {}, { htmx: true });
    expect(again.status).toBe(409);
    expect(textOf(again.html)).toContain(`Batch ${unsent} is cancelled; only a batch that has not finished can be cancelled.`);
    await freeze(false);
  });

  it('makes the part of a queue selection that fits the budget into a batch and says what stayed queued', async () => {
    await submitMany(stack, home, home.taskId, await userIdOf(stack, '5e02'), 2);
    const queued = (await stack.db.db.execute<{ id: number; est: number }>(sql`select id, est_cost_micros::int8 as est from queue_items where course_id = ${home.courseId} and status = 'queued' order by priority_rank, created_at, id`)).rows;
    expect(queued.length).toBeGreaterThanOrEqual(2);
    const committed = (await stack.db.db.execute<{ c: number }>(sql`
      select coalesce(sum(case when kind = 'release' then -amount_micros else amount_micros - settled_micros end), 0)::int8 as c from cost_ledger where course_id = ${home.courseId}`)).rows[0]!.c;
    // Room for the oldest queued item and not one more.
    await stack.db.db.execute(sql`update budgets set limit_micros = ${Number(committed) + Number(queued[0]!.est) + 1} where id = ${budgetId}`);
    const page = await admin.post('/admin/batches', { scope: 'all' });
    expect(page.status).toBe(200);
    expect(page.url).toContain('/admin/batches?');
    expect(textOf(page.html)).toMatch(/Created batch \d+ from the queue\./);
    const left = queued.length - 1;
    expect(textOf(page.html)).toMatch(new RegExp(`The selection did not fit the monthly budget of course ".*" \\(\\$0\\.\\d+ left\\): the batch holds what fits, highest priority and oldest first\\. ${left} items? \\(estimated \\$0\\.\\d+\\) stays? queued\\.`));
    const statuses = (await stack.db.db.execute<{ status: string }>(sql`select status from queue_items where id = any(${sql.param(queued.map((q) => q.id))}::bigint[]) order by priority_rank, created_at, id`)).rows.map((r) => r.status);
    expect(statuses).toEqual(['selected', ...Array(left).fill('queued')]);
    await stack.db.db.execute(sql`update budgets set limit_micros = 50000000 where id = ${budgetId}`);
  });

  it('sends named items past a freeze by an emergency override: once, with a reason, audited, within its monthly cap', async () => {
    await freeze(true);
    const items = await submitMany(stack, home, home.taskId, await userIdOf(stack, '5e02'), 2);
    const ids = items.join(', ');
    const noReason = await admin.post('/admin/costs/override', { ids, reason: 'urgent' }, { htmx: true });
    expect(noReason.status).toBe(422);
    expect(textOf(noReason.html)).toContain('Say why these items cannot wait, in at least 10 characters');
    expect(noReason.html).toContain(`value="${ids}"`);
    const badIds = await admin.post('/admin/costs/override', { ids: 'twelve', reason: 'Final exam grades are due at noon.' }, { htmx: true });
    expect(badIds.status).toBe(422);
    expect(textOf(badIds.html)).toContain('Name the queue items to send by their numbers');

    const done = await admin.post('/admin/costs/override', { ids, reason: 'Final exam grades are due at noon.' }, { htmx: true });
    expect(done.status).toBe(200);
    const id = Number(/Override recorded: batch (\d+) with 2 items, past the budgets\./.exec(textOf(done.html))?.[1]);
    expect(id).toBeGreaterThan(0);
    expect(textOf(done.html)).toContain('Final exam grades are due at noon.');
    const audit = await stack.db.db.execute<{ details: { reason?: string; requests?: number } }>(sql`select details from audit_log where action = 'batch.override' and entity_id = ${String(id)}`);
    expect(audit.rows[0]!.details).toMatchObject({ reason: 'Final exam grades are due at noon.', requests: 2 });

    // Confirmed and sent while frozen: the override is what lets it pass.
    expect((await admin.request(`/api/admin/llm-batches/${id}/submit/`, { method: 'POST', json: {} })).status).toBe(202);
    await sendBatch(testWorker(stack.db.db, stack.config), id);
    expect((await batchRow(id)).provider_batch_id).not.toBeNull();

    // Once: the same items again are no longer queued.
    const again = await admin.post('/admin/costs/override', { ids, reason: 'Final exam grades are due at noon.' }, { htmx: true });
    expect(again.status).toBe(409);
    expect(textOf(again.html)).toMatch(/2 selected items are no longer queued/);
    // The cap: two more items would take this month's overrides past $0.0005.
    const more = await submitMany(stack, home, home.taskId, await userIdOf(stack, '5e02'), 2);
    const capped = await admin.post('/admin/costs/override', { ids: more.join(' '), reason: 'Resubmissions for the same exam.' }, { htmx: true });
    expect(capped.status).toBe(409);
    expect(textOf(capped.html)).toMatch(/more than is left of this month's override cap: \$0\.000\d+ of \$0\.0005 used/);
    const statuses = (await stack.db.db.execute<{ status: string }>(sql`select status from queue_items where id = any(${sql.param(more)}::bigint[])`)).rows.map((r) => r.status);
    expect(statuses).toEqual(['queued', 'queued']);
    await freeze(false);
  });

  it('refuses sample tests while frozen, on the prompt page and in the API', async () => {
    await freeze(true);
    const api = await instructor.request(`/api/tasks/${home.taskId}/llm-prompt/test/`, { method: 'POST', json: { samples: ['The Tea Act taxed tea.'] } });
    expect(api.status).toBe(409);
    expect(api.json<ApiError>().error.message).toContain('is frozen');
    const page = await instructor.post(`/instructor/tasks/${home.taskId}/prompt/test`, promptForm({}, { 'samples[0]': 'The Tea Act taxed tea.' }), { htmx: true });
    expect(page.status).toBe(409);
    expect(textOf(page.html)).toContain('Nothing was tested');
    expect(textOf(page.html)).toContain('is frozen');
    await freeze(false);
  });
});
