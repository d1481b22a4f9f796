import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { sql } from 'drizzle-orm';
import { startStack, type Stack } from './helpers/stack.js';
import type { ToolSession } from './helpers/lti-browser.js';
import { addActivityByDeepLinking, registerByDynamicRegistration } from './helpers/launches.js';
import { activatePrompt, allowLlm, homeIds, submitMany, userIdOf, type Home } from './helpers/queue-fixtures.js';
import { createBatches } from '../src/models/batches/batches.service.js';

/**
 * The administrator's queue dashboard and batch pages over HTTP: filters, sorting, paging, bulk actions, batch
 * creation with its confirm step, the live monitor, and every way a batch request can be refused (nothing changed).
 */
describe('admin queue and batches', () => {
  let stack: Stack;
  let admin: ToolSession;
  let foreignAdmin: ToolSession;
  let home: Home;
  let essayItems: number[];
  let shortItems: number[];

  const statuses = async (ids: number[]) => {
    const r = await stack.db.db.execute<{ id: number; status: string }>(sql`select id, status from queue_items where id = any(${sql.param(ids)}::bigint[]) order by id`);
    return r.rows.map((x) => x.status);
  };
  const batchCount = async () => Number((await stack.db.db.execute<{ n: number }>(sql`select count(*)::int as n from batches`)).rows[0]!.n);
  const snapshot = async () => (await stack.db.db.execute(sql`select id, status, priority, batch_id, not_before, admin_notes, attempts from queue_items order by id`)).rows;
  /** Form posts with repeated `ids` fields, as the browser sends ticked checkboxes. */
  const post = async (session: ToolSession, path: string, form: Record<string, string>, ids: number[] = []) => {
    const body = new URLSearchParams(form);
    for (const id of ids) body.append('ids', String(id));
    const url = new URL(path, session.toolOrigin).href;
    const res = await fetch(url, {
      method: 'POST',
      body,
      redirect: 'manual',
      headers: { authorization: `Bearer ${session.ltik}`, 'x-csrf-token': session.csrf, 'hx-request': 'true', cookie: session.browser.jar.header(url), 'content-type': 'application/x-www-form-urlencoded' },
    });
    return { status: res.status, html: await res.text(), headers: res.headers };
  };

  beforeAll(async () => {
    stack = await startStack({ env: { BATCH_MIN_SIZE: '2', BATCH_MAX_SIZE: '5' } });
    await stack.browser().launch(stack.devlmsUrl, 'instructor', { task: '1' });
    await stack.browser().launch(stack.devlmsUrl, 'instructor', { task: '2' });
    await stack.browser().launch(stack.devlmsUrl, 'student1', { task: '1' });
    await stack.browser().launch(stack.devlmsUrl, 'student2', { task: '2' });
    admin = await stack.browser().launch(stack.devlmsUrl, 'admin');
    home = await homeIds(stack);
    await allowLlm(stack.db.db, home.courseId, home.instructorId);
    await activatePrompt(stack.db.db, home, home.taskId);
    await activatePrompt(stack.db.db, home, home.task2Id!);
    await stack.db.db.execute(sql`update tasks set task_type = 'short_answer' where id = ${home.task2Id}`);
    essayItems = await submitMany(stack, home, home.taskId, await userIdOf(stack, '5e02'), 30);
    shortItems = await submitMany(stack, home, home.task2Id!, await userIdOf(stack, '5e03'), 4);
    const { clientId } = await registerByDynamicRegistration(stack, admin);
    await addActivityByDeepLinking(stack, stack.browser(), { title: 'Second LMS essay', client: clientId });
    foreignAdmin = await stack.browser().launch(stack.devlmsUrl, 'admin', { client: clientId });
  }, 120_000);
  afterAll(async () => {
    await stack?.close();
  });

  describe('dashboard', () => {
    it('shows statistics, capacity, an accessible chart and the first page of items', async () => {
      const page = await admin.get('/admin/queue');
      expect(page.status).toBe(200);
      expect(page.html).toContain('<h1>Assessment queue</h1>');
      expect(page.html).toMatch(/id="stat-pending">34</);
      expect(page.html).toMatch(/id="stat-oldest">(under a minute|\d+ min)</);
      expect(page.html).toContain('Capacity per model');
      expect(page.html).toMatch(/<svg role="img" aria-labelledby="chart-items-title chart-items-desc"/);
      expect(page.html).toContain('History 101: Revolutions: 34');
      expect(page.html).toContain('<strong>34</strong> items match');
      expect(page.html).toContain('showing 1–34');
      expect((page.html.match(/name="ids" value=/g) ?? []).length).toBe(34);
      expect(page.html).toContain('No item has failed for good.');
    });

    it('filters by task, task type, priority, course, instructor, dates and status (fragment only)', async () => {
      const byTask = await admin.get(`/admin/queue?task=${home.task2Id}`, { htmx: true });
      expect(byTask.html).toMatch(/^<div id="admin-queue-board">/);
      expect(byTask.html).toContain('<strong>4</strong> items match');
      const byType = await admin.get('/admin/queue?taskType=short_answer', { htmx: true });
      expect(byType.html).toContain('<strong>4</strong> items match');
      const byCourse = await admin.get(`/admin/queue?course=${home.courseId}&instructor=${home.instructorId}`, { htmx: true });
      expect(byCourse.html).toContain('<strong>34</strong> items match');
      const otherInstructor = await admin.get(`/admin/queue?instructor=999999`, { htmx: true });
      expect(otherInstructor.html).toContain('<strong>0</strong> items match');
      const byPriority = await admin.get('/admin/queue?priority=high', { htmx: true });
      expect(byPriority.html).toContain('<strong>0</strong> items match');
      const today = new Date().toISOString().slice(0, 10);
      const byDate = await admin.get(`/admin/queue?from=${today}&to=${today}`, { htmx: true });
      expect(byDate.html).toContain('<strong>34</strong> items match');
      const future = await admin.get('/admin/queue?from=2999-01-01', { htmx: true });
      expect(future.html).toContain('<strong>0</strong> items match');
      const completed = await admin.get('/admin/queue?status=completed', { htmx: true });
      expect(completed.html).toContain('<strong>0</strong> items match');
    });

    it('sorts and pages on the server', async () => {
      const first = await admin.get('/admin/queue?pageSize=25&sort=oldest');
      expect((first.html.match(/name="ids" value=/g) ?? []).length).toBe(25);
      expect(first.html).toContain('Page 1 of 2');
      expect(first.html).toContain(`id="queue-item-${essayItems[0]}"`);
      const second = await admin.get('/admin/queue?pageSize=25&sort=oldest&page=2');
      expect((second.html.match(/name="ids" value=/g) ?? []).length).toBe(9);
      expect(second.html).toContain('showing 26–34');
      const newest = await admin.get('/admin/queue?pageSize=25&sort=newest');
      const firstRow = newest.html.match(/id="queue-item-(\d+)"/)![1];
      expect(Number(firstRow)).toBe(shortItems[shortItems.length - 1]);
    });

    it('answers a bad filter with 422 and the message beside the field', async () => {
      const bad = await admin.get('/admin/queue?from=yesterday&pageSize=7', { htmx: true });
      expect(bad.status).toBe(422);
      expect(bad.html).toContain('Enter a date as YYYY-MM-DD.');
      expect(bad.html).toMatch(/id="f-from"[^>]*aria-invalid="true"/);
    });
  });

  describe('bulk actions', () => {
    it('change the priority of the ticked items only, and audit it', async () => {
      const res = await post(admin, '/admin/queue/actions', { scope: 'selected', action: 'priority', newPriority: 'high' }, essayItems.slice(0, 2));
      expect(res.status).toBe(200);
      expect(res.html).toContain('Changed the priority of 2 items.');
      const rows = await stack.db.db.execute<{ priority: string }>(sql`select priority from queue_items where id = any(${sql.param(essayItems.slice(0, 3))}::bigint[]) order by id`);
      expect(rows.rows.map((r) => r.priority)).toEqual(['high', 'high', 'normal']);
      const audit = await stack.db.db.execute<{ n: number }>(sql`select count(*)::int as n from audit_log where action = 'queue.priority'`);
      expect(audit.rows[0]!.n).toBe(1);
    });

    it('apply to every item matching the filter ("all matching"), not just the page', async () => {
      const res = await post(admin, '/admin/queue/actions', { scope: 'all', action: 'notes', notes: 'short answers first', f_task: String(home.task2Id), f_status: 'queued' });
      expect(res.status).toBe(200);
      expect(res.html).toContain('Saved notes on 4 items.');
      const rows = await stack.db.db.execute<{ n: number }>(sql`select count(*)::int as n from queue_items where admin_notes = 'short answers first'`);
      expect(rows.rows[0]!.n).toBe(4);
      // The board comes back with the same filter.
      expect(res.html).toContain('<strong>4</strong> items match');
    });

    it('reschedule and clear a "not before" time', async () => {
      const later = await post(admin, '/admin/queue/actions', { action: 'reschedule', notBefore: '2999-01-01T08:00' }, [essayItems[29]!]);
      expect(later.status).toBe(200);
      const row = await stack.db.db.execute<{ not_before: Date }>(sql`select not_before from queue_items where id = ${essayItems[29]!}`);
      expect(new Date(row.rows[0]!.not_before).toISOString()).toBe('2999-01-01T08:00:00.000Z');
      const cleared = await post(admin, '/admin/queue/actions', { action: 'reschedule', notBefore: '' }, [essayItems[29]!]);
      expect(cleared.status).toBe(200);
      const row2 = await stack.db.db.execute<{ not_before: Date | null }>(sql`select not_before from queue_items where id = ${essayItems[29]!}`);
      expect(row2.rows[0]!.not_before).toBeNull();
    });

    it('skip (remove) items, and queue them again', async () => {
      const skip = await post(admin, '/admin/queue/actions', { action: 'skip' }, [essayItems[28]!]);
      expect(skip.html).toContain('Skipped 1 item.');
      expect(await statuses([essayItems[28]!])).toEqual(['skipped']);
      const again = await post(admin, '/admin/queue/actions', { action: 'requeue' }, [essayItems[28]!]);
      expect(again.html).toContain('Queued again 1 item.');
      expect(await statuses([essayItems[28]!])).toEqual(['queued']);
    });

    it('refuse bad input with the message beside the field and change nothing', async () => {
      const before = await snapshot();
      const none = await post(admin, '/admin/queue/actions', { action: 'skip' });
      expect(none.status).toBe(422);
      expect(none.html).toContain('Select at least one item.');
      const noPriority = await post(admin, '/admin/queue/actions', { action: 'priority', newPriority: 'urgent' }, [essayItems[0]!]);
      expect(noPriority.status).toBe(422);
      expect(noPriority.html).toMatch(/id="new-priority"[^>]*aria-invalid="true"/);
      const badTime = await post(admin, '/admin/queue/actions', { action: 'reschedule', notBefore: 'next tuesday' }, [essayItems[0]!]);
      expect(badTime.status).toBe(422);
      expect(badTime.html).toContain('Enter a date and time.');
      const longNotes = await post(admin, '/admin/queue/actions', { action: 'notes', notes: 'x'.repeat(2001) }, [essayItems[0]!]);
      expect(longNotes.status).toBe(422);
      const unknown = await post(admin, '/admin/queue/actions', { action: 'explode' }, [essayItems[0]!]);
      expect(unknown.status).toBe(422);
      expect(unknown.html).toContain('Choose an action.');
      expect(await snapshot()).toEqual(before);
    });

    it('never touch another platform\'s items (an action on them changes nothing)', async () => {
      const before = await snapshot();
      const res = await post(foreignAdmin, '/admin/queue/actions', { action: 'skip' }, essayItems.slice(0, 3));
      expect(res.status).toBe(409);
      expect(res.html).toContain('Nothing changed');
      const all = await post(foreignAdmin, '/admin/queue/actions', { scope: 'all', action: 'skip' });
      expect(all.status).toBe(409);
      expect(await snapshot()).toEqual(before);
    });
  });

  describe('batch creation (bad input: clear errors, nothing changed)', () => {
    it('refuses an empty selection', async () => {
      const before = await snapshot();
      const res = await post(admin, '/admin/batches', {});
      expect(res.status).toBe(422);
      expect(res.html).toContain('Select at least one item.');
      const none = await post(admin, '/admin/batches', { scope: 'all', f_status: 'queued', f_from: '2999-01-01' });
      expect(none.status).toBe(422);
      expect(none.html).toContain('No queued item that is due matches this filter.');
      expect(await snapshot()).toEqual(before);
      expect(await batchCount()).toBe(0);
    });

    it('refuses another platform\'s items as not found', async () => {
      const before = await snapshot();
      const res = await post(foreignAdmin, '/admin/batches', { scope: 'selected' }, essayItems.slice(0, 3));
      expect(res.status).toBe(422);
      expect(res.html).toContain('There is nothing to put in a batch.');
      expect(res.html).not.toContain('Causes of the French Revolution');
      expect(await snapshot()).toEqual(before);
      expect(await batchCount()).toBe(0);
    });

    it('refuses sizes out of the limits (per batch, and a selection below the minimum)', async () => {
      const before = await snapshot();
      const tooBig = await post(admin, '/admin/batches', { maxPerBatch: '6' }, essayItems.slice(0, 4));
      expect(tooBig.status).toBe(422);
      expect(tooBig.html).toContain('Choose between 2 and 5 requests per batch.');
      expect(tooBig.html).toMatch(/id="max-per-batch"[^>]*aria-invalid="true"/);
      const notNumber = await post(admin, '/admin/batches', { maxPerBatch: 'lots' }, essayItems.slice(0, 4));
      expect(notNumber.status).toBe(422);
      expect(notNumber.html).toContain('Enter a whole number.');
      const tooSmall = await post(admin, '/admin/batches', {}, [essayItems[0]!]);
      expect(tooSmall.status).toBe(422);
      expect(tooSmall.html).toContain('a batch needs at least 2');
      expect(await snapshot()).toEqual(before);
      expect(await batchCount()).toBe(0);
    });

    it('refuses a selection with a skipped or rescheduled item', async () => {
      await post(admin, '/admin/queue/actions', { action: 'skip' }, [essayItems[27]!]);
      const before = await snapshot();
      const res = await post(admin, '/admin/batches', {}, [essayItems[26]!, essayItems[27]!]);
      expect(res.status).toBe(409);
      expect(res.html).toContain(`#${essayItems[27]} (skipped)`);
      await post(admin, '/admin/queue/actions', { action: 'reschedule', notBefore: '2999-01-01T00:00' }, [essayItems[25]!]);
      const later = await post(admin, '/admin/batches', {}, [essayItems[25]!, essayItems[26]!]);
      expect(later.status).toBe(409);
      expect(later.html).toContain('rescheduled for later');
      expect((await snapshot()).filter((r) => (r as { id: number }).id !== essayItems[25])).toEqual(before.filter((r) => (r as { id: number }).id !== essayItems[25]));
      expect(await batchCount()).toBe(0);
      await post(admin, '/admin/queue/actions', { action: 'reschedule', notBefore: '' }, [essayItems[25]!]);
    });

    it('creates batches grouped and split within the limits, then refuses the already-batched selection', async () => {
      const ids = essayItems.slice(0, 7);
      const res = await post(admin, '/admin/batches', { maxPerBatch: '5', batchNotes: 'first run' }, ids);
      expect(res.status).toBe(201);
      expect(res.headers.get('hx-redirect')).toMatch(/^\/admin\/batches\?created=\d+%2C\d+&ltik=/);
      const batches = await stack.db.db.execute<{ id: number; status: string; request_total: number; notes: string; est_cost_micros: number }>(sql`select id, status, request_total, notes, est_cost_micros from batches order by id`);
      expect(batches.rows.map((b) => [b.status, b.request_total, b.notes])).toEqual([
        ['created', 4, 'first run'],
        ['created', 3, 'first run'],
      ]);
      expect(await statuses(ids)).toEqual(Array(7).fill('selected'));

      const before = await snapshot();
      const again = await post(admin, '/admin/batches', {}, ids.slice(0, 3));
      expect(again.status).toBe(409);
      expect(again.html).toContain('no longer queued (already in a batch');
      expect(await snapshot()).toEqual(before);
      expect(await batchCount()).toBe(2);

      // Waiting for confirmation, with the estimate, on the batches page.
      const list = await admin.get(res.headers.get('hx-redirect')!);
      expect(list.html).toContain(`Created 2 batches (${batches.rows[1]!.id}, ${batches.rows[0]!.id})`);
      expect(list.html).toContain('Waiting for your confirmation');
      expect(list.html).toContain(`id="waiting-${batches.rows[0]!.id}"`);
    });

    it('sends a batch only after the explicit confirmation, and only once', async () => {
      const [b] = (await stack.db.db.execute<{ id: number }>(sql`select id from batches order by id limit 1`)).rows;
      const monitor = await admin.get(`/admin/batches/${b!.id}`);
      expect(monitor.status).toBe(200);
      expect(monitor.html).toContain('Send this batch?');
      expect(monitor.html).toMatch(/<progress id="batch-progress-\d+" max="4" value="0">/);
      expect(monitor.html).toContain('hx-trigger="every 3s"');
      const confirm = await admin.post(`/admin/batches/${b!.id}/submit`, {}, { htmx: true });
      expect(confirm.status).toBe(200);
      expect(confirm.html).toMatch(/^<section id="admin-batch-\d+"/);
      expect(confirm.html).toContain('Confirmed, being sent');
      expect(confirm.html).not.toContain('Send this batch?');
      const twice = await admin.post(`/admin/batches/${b!.id}/submit`, {}, { htmx: true });
      expect(twice.status).toBe(409);
      expect(twice.html).toContain('already submitted; a batch is sent once');
      const row = await stack.db.db.execute<{ submit_requested_at: Date | null }>(sql`select submit_requested_at from batches where id = ${b!.id}`);
      expect(row.rows[0]!.submit_requested_at).not.toBeNull();
    });

    it('cancels an unsent batch: its items go back to the queue', async () => {
      const [, b] = (await stack.db.db.execute<{ id: number }>(sql`select id from batches order by id`)).rows;
      const res = await admin.post(`/admin/batches/${b!.id}/cancel`, {});
      expect(res.status).toBe(200); // a plain form: redirected to the monitor
      expect(res.html).toContain('<h1>Batch');
      expect(res.html).toContain('data-status="cancelled"');
      const items = await stack.db.db.execute<{ status: string }>(sql`select status from queue_items where id = any(${sql.param(essayItems.slice(4, 7))}::bigint[])`);
      expect(items.rows.map((r) => r.status)).toEqual(['queued', 'queued', 'queued']);
      const again = await admin.post(`/admin/batches/${b!.id}/cancel`, {}, { htmx: true });
      expect(again.status).toBe(409);
    });

    it('leaves an item skipped while it is being batched alone: the skip waits, then changes nothing', async () => {
      const ids = essayItems.slice(10, 12);
      const before = await snapshot();
      let skip: Promise<{ status: number; html: string }> | undefined;
      await stack.db.db.transaction(async (tx) => {
        await createBatches(tx, stack.config.batches, { platformId: home.platformId, userId: home.instructorId }, { scope: 'selected', ids }, {});
        skip = post(admin, '/admin/queue/actions', { action: 'skip' }, ids);
        // Commit only once the skip is waiting for the batch's row locks.
        for (let i = 0; i < 200; i++) {
          const waiting = await stack.db.pool.query<{ n: number }>(`select count(*)::int as n from pg_stat_activity where wait_event_type = 'Lock' and query like '%update queue_items%'`);
          if (waiting.rows[0]!.n > 0) break;
          await new Promise((r) => setTimeout(r, 20));
        }
      });
      const res = await skip!;
      expect(res.status).toBe(409);
      expect(res.html).toContain('Nothing changed');
      expect(await statuses(ids)).toEqual(['selected', 'selected']);
      expect((await snapshot()).length).toBe(before.length);
    });

    it('stops polling the monitor once a batch is finished and read', async () => {
      const [b] = (await stack.db.db.execute<{ id: number }>(sql`select id from batches order by id limit 1`)).rows;
      await stack.db.db.execute(sql`update batches set status = 'completed', request_completed = 3, request_failed = 1, finished_at = now(), ingested_at = now(), error = null where id = ${b!.id}`);
      const res = await admin.get(`/admin/batches/${b!.id}`, { htmx: true });
      expect(res.html).not.toContain('hx-trigger');
      expect(res.html).toContain('4 of 4 (100%)');
      expect(res.html).not.toContain('Cancel batch');
      const notes = await admin.post(`/admin/batches/${b!.id}/notes`, { notes: 'graded fine' }, { htmx: true });
      expect(notes.status).toBe(200);
      expect(notes.html).toContain('graded fine');
      const tooLong = await admin.post(`/admin/batches/${b!.id}/notes`, { notes: 'x'.repeat(2001) }, { htmx: true });
      expect(tooLong.status).toBe(422);
      expect(tooLong.html).toContain('Notes have at most 2000 characters.');
      expect((await admin.get(`/admin/batches/${b!.id}`, { htmx: true })).html).toContain('graded fine');
      const foreign = await foreignAdmin.get(`/admin/batches/${b!.id}`);
      expect(foreign.status).toBe(404);
    });
  });
});
