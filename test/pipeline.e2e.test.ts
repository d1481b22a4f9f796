import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { sql } from 'drizzle-orm';
import { until } from './helpers/until.js';
import { startStack, type Stack } from './helpers/stack.js';
import type { ToolSession } from './helpers/lti-browser.js';
import { activatePrompt, homeIds, postMultipart } from './helpers/queue-fixtures.js';

/**
 * The acceptance path of issue 5, end to end over HTTP: through the dev LMS, three students submit; the administrator
 * selects their items on the queue page, creates a batch, sees its estimate and confirms it; the worker (same
 * process, Agenda on the test database) sends it to the OpenAI emulator, polls and ingests; the instructor sees three
 * validated assessments with their costs.
 */
describe('pipeline: submit → queue → batch → assessment', () => {
  let stack: Stack;
  let instructor: ToolSession;
  let admin: ToolSession;
  const students: ToolSession[] = [];

  beforeAll(async () => {
    stack = await startStack({
      role: 'all',
      emulator: true,
      env: { BATCH_MIN_SIZE: '2', BATCH_POLL_MIN_MS: '10', BATCH_POLL_MAX_MS: '50', BATCH_LEASE_MS: '5000', BATCH_SWEEP_MS: '300' },
    });
    instructor = await stack.browser().launch(stack.devlmsUrl, 'instructor', { task: '1' });
  }, 60_000);
  afterAll(async () => {
    await stack?.close();
  });

  it('grades three students\' work through an administrator-confirmed batch', async () => {
    // The instructor allows LLM assessment in the course settings page, and the task gets its grading prompt.
    const settings = await instructor.post('/instructor/settings', { llmAllowed: 'on', anonymize: 'on', retentionDays: '' }, { htmx: true });
    expect(settings.status).toBe(200);
    const home = await homeIds(stack);
    await activatePrompt(stack.db.db, home, home.taskId);

    // Three students launch from the LMS and submit on the task page.
    const answers = [
      'The French Revolution had political causes (absolutism, the Estates-General), social causes (the privileges of the first two estates) and economic causes (debt, bread prices).',
      'Bankruptcy of the crown after the American war, bad harvests in 1788 and Enlightenment ideas about popular sovereignty together caused the Revolution.',
      'The third estate carried the tax burden while the nobility and clergy were exempt; when the king called the Estates-General, the deputies formed a National Assembly.',
    ];
    for (const [i, login] of ['student1', 'student2', 'student3'].entries()) {
      const s = await stack.browser().launch(stack.devlmsUrl, login, { task: '1' });
      expect(new URL(s.home.url).pathname).toBe(`/student/tasks/${home.taskId}`);
      expect(s.home.html).toContain('id="student-submit"');
      const res = await postMultipart(s, `/student/tasks/${home.taskId}/submissions`, { text: answers[i]!, format: 'text' });
      expect(res.status).toBe(201);
      expect(res.html).toContain('data-status="queued"');
      expect(res.html).toContain(`position ${i + 1} in the queue`);
      students.push(s);
    }

    // The administrator sees the three items on the queue page, ticks them and creates a batch.
    admin = await stack.browser().launch(stack.devlmsUrl, 'admin');
    const queue = await admin.get('/admin/queue');
    expect(queue.html).toMatch(/id="stat-pending">3</);
    const ids = [...queue.html.matchAll(/name="ids" value="(\d+)"/g)].map((m) => m[1]!);
    expect(ids).toHaveLength(3);
    const body = new URLSearchParams({ scope: 'selected', batchNotes: 'end-to-end' });
    for (const id of ids) body.append('ids', id);
    const url = `${admin.toolOrigin}/admin/batches`;
    const created = await fetch(url, {
      method: 'POST',
      body,
      headers: { authorization: `Bearer ${admin.ltik}`, 'x-csrf-token': admin.csrf, 'hx-request': 'true', cookie: admin.browser.jar.header(url), 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(created.status).toBe(201);
    const next = created.headers.get('hx-redirect')!;
    const batches = await admin.get(next);
    expect(batches.html).toContain('Waiting for your confirmation');
    const batchId = Number(batches.html.match(/id="waiting-(\d+)"/)![1]);

    // The estimate, then the explicit confirmation.
    const monitor = await admin.get(`/admin/batches/${batchId}`);
    expect(monitor.html).toContain('Send this batch?');
    expect(monitor.html).toMatch(/estimated <strong>\$0\.\d+<\/strong>/);
    const confirmed = await admin.post(`/admin/batches/${batchId}/submit`, {}, { htmx: true });
    expect(confirmed.status).toBe(200);

    // The worker sends, polls and ingests; the live monitor follows until it stops polling.
    const finished = await until('the monitor to show a finished, ingested batch', async () => {
      const f = await admin.get(`/admin/batches/${batchId}`, { htmx: true });
      return f.html.includes('hx-trigger') ? undefined : f.html;
    });
    expect(finished).toContain('data-status="completed"');
    expect(finished).toContain('3 of 3 (100%)');

    // Each student's status is final: graded (feedback waits for the instructor's approval).
    for (const s of students) {
      const f = await s.get(`/student/tasks/${home.taskId}/submissions`, { htmx: true });
      expect(f.html).toContain('data-status="completed"');
      expect(f.html).not.toContain('hx-trigger');
    }

    // The instructor sees three validated assessments, each with its usage and cost.
    const pending = await instructor.get('/api/llm-assessments/pending-review/');
    expect(pending.status).toBe(200);
    const list = pending.json<{ items: Array<{ id: number; studentName: string; score: number | null }> }>().items;
    expect(list).toHaveLength(3);
    for (const item of list) {
      const one = await instructor.get(`/api/llm-assessments/${item.id}/`);
      const a = one.json<{ result: Record<string, unknown> | null; score: number | null; maxScore: number; costMicros: number; usage: { inputTokens: number; outputTokens: number } }>();
      expect(a.result).not.toBeNull();
      expect(a.score).not.toBeNull();
      expect(a.score!).toBeGreaterThanOrEqual(0);
      expect(a.score!).toBeLessThanOrEqual(a.maxScore);
      expect(a.costMicros).toBeGreaterThan(0);
      expect(a.usage.inputTokens).toBeGreaterThan(0);
      expect(a.usage.outputTokens).toBeGreaterThan(0);
    }
    const reviewPage = await instructor.get('/instructor/review');
    expect(reviewPage.status).toBe(200);
    for (const name of ['Amara Okafor', 'Ben Carter', 'Wei Chen']) expect(reviewPage.html).toContain(name);

    // Nothing graded twice: one assessment per item, every item completed, the batch's cost is the sum.
    const check = await stack.db.db.execute<{ items: number; completed: number; assessments: number; batch_cost: number; sum_cost: number }>(sql`
      select (select count(*)::int from queue_items) as items,
             (select count(*)::int from queue_items where status = 'completed') as completed,
             (select count(*)::int from assessments) as assessments,
             (select actual_cost_micros from batches where id = ${batchId}) as batch_cost,
             (select sum(actual_cost_micros)::int8 from assessments) as sum_cost`);
    const c = check.rows[0]!;
    expect([c.items, c.completed, c.assessments]).toEqual([3, 3, 3]);
    expect(Number(c.batch_cost)).toBe(Number(c.sum_cost));
  }, 90_000);
});
