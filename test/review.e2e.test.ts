import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { sql } from 'drizzle-orm';
import { AgsClient } from '../src/lti/ags.client.js';
import { until } from './helpers/until.js';
import { startStack, type Stack } from './helpers/stack.js';
import type { ToolSession } from './helpers/lti-browser.js';
import { activatePrompt, homeIds, postMultipart } from './helpers/queue-fixtures.js';
import { lmsScores } from './helpers/assessments.js';

/**
 * Issue 6's acceptance path through the dev LMS: submissions → batch (OpenAI emulator) → the instructor approves
 * one, overrides one (the original kept), bulk-approves the rest → the worker posts the grades → the LMS gradebook
 * holds exactly those scores, in one column for the task.
 */
describe('review end to end: submissions → batch → review → LMS gradebook', () => {
  let stack: Stack;
  let instructor: ToolSession;

  beforeAll(async () => {
    stack = await startStack({ role: 'all', emulator: true, env: { BATCH_MIN_SIZE: '2', BATCH_POLL_MIN_MS: '10', BATCH_POLL_MAX_MS: '50', BATCH_SWEEP_MS: '300', GRADE_SYNC_BACKOFF_MS: '0' } });
    instructor = await stack.browser().launch(stack.devlmsUrl, 'instructor', { task: '1' });
  }, 60_000);
  afterAll(async () => {
    await stack?.close();
  });

  it('puts exactly the reviewed grades in the gradebook, one column per task', async () => {
    expect((await instructor.post('/instructor/settings', { llmAllowed: 'on', anonymize: 'on', retentionDays: '' }, { htmx: true })).status).toBe(200);
    const home = await homeIds(stack);
    await activatePrompt(stack.db.db, home, home.taskId);
    const logins = ['student1', 'student2', 'student3'];
    for (const [i, login] of logins.entries()) {
      const s = await stack.browser().launch(stack.devlmsUrl, login, { task: '1' });
      const res = await postMultipart(s, `/student/tasks/${home.taskId}/submissions`, { text: `Causes of the Revolution, answer ${i + 1}: fiscal crisis, Enlightenment ideas and the privileges of the first two estates.`, format: 'text' });
      expect(res.status).toBe(201);
    }

    // The administrator batches the three queued items and confirms; the worker sends, polls and ingests.
    const admin = await stack.browser().launch(stack.devlmsUrl, 'admin');
    const queue = await admin.get('/admin/queue');
    const body = new URLSearchParams({ scope: 'selected', batchNotes: 'review e2e' });
    for (const m of queue.html.matchAll(/name="ids" value="(\d+)"/g)) body.append('ids', m[1]!);
    const url = `${admin.toolOrigin}/admin/batches`;
    const created = await fetch(url, { method: 'POST', body, headers: { authorization: `Bearer ${admin.ltik}`, 'x-csrf-token': admin.csrf, 'hx-request': 'true', cookie: admin.browser.jar.header(url), 'content-type': 'application/x-www-form-urlencoded' } });
    expect(created.status).toBe(201);
    const batchId = Number((await admin.get(created.headers.get('hx-redirect')!)).html.match(/id="waiting-(\d+)"/)![1]);
    expect((await admin.post(`/admin/batches/${batchId}/submit`, {}, { htmx: true })).status).toBe(200);
    type Pending = { id: number; studentName: string; score: number | null; maxScore: number; decisionSeq: number };
    const pending = await until('three assessments to review', async () => {
      const items = (await instructor.get('/api/llm-assessments/pending-review/')).json<{ items: Pending[] }>().items;
      return items.length === 3 ? items : undefined;
    });
    const byName = (name: string) => pending.find((p) => p.studentName === name)!;
    const [approved, overridden, bulk] = [byName('Amara Okafor'), byName('Ben Carter'), byName('Wei Chen')];
    for (const p of pending) expect(p.score).not.toBeNull();
    const originalResult = (await stack.db.db.execute<{ result: unknown; score: number }>(sql`select result, score from assessments where id = ${overridden.id}`)).rows[0]!;

    // Approve one, override one with a reason, bulk-approve the rest (confirming flagged ones, if any).
    expect((await instructor.post(`/instructor/review/${approved.id}/approve`, { decisionSeq: '0' }, { htmx: true })).status).toBe(200);
    const overrideScore = overridden.score === overridden.maxScore ? overridden.maxScore - 1 : overridden.maxScore;
    expect((await instructor.post(`/instructor/review/${overridden.id}/override`, { decisionSeq: '0', score: String(overrideScore), category: 'other', reason: 'A stronger answer than the model saw.' }, { htmx: true })).status).toBe(200);
    const bulkBody = new URLSearchParams({ ids: String(bulk.id), confirmFlagged: 'on' });
    const bulkUrl = `${instructor.toolOrigin}/instructor/review/bulk-approve`;
    const bulkRes = await fetch(bulkUrl, { method: 'POST', body: bulkBody, headers: { authorization: `Bearer ${instructor.ltik}`, 'x-csrf-token': instructor.csrf, 'hx-request': 'true', cookie: instructor.browser.jar.header(bulkUrl), 'content-type': 'application/x-www-form-urlencoded' } });
    expect(bulkRes.status).toBe(200);
    expect(await bulkRes.text()).toContain('Approved 1 assessment.');

    // Each decision asked the worker (Agenda, same database) to send its grade; nothing else is needed.
    await until('all three grades synced', async () => {
      const r = await stack.db.db.execute<{ n: number }>(sql`select count(*)::int as n from assessments where grade_sync_status = 'synced'`);
      return r.rows[0]!.n === 3 ? true : undefined;
    });

    const scores = (await lmsScores(stack)).filter((s) => s.lineItemLabel === 'Essay: Causes of the French Revolution');
    expect(scores.map((s) => [s.login, s.scoreGiven]).sort()).toEqual(
      [
        ['student1', approved.score],
        ['student2', overrideScore],
        ['student3', bulk.score],
      ].sort(),
    );
    for (const s of scores) expect(s).toMatchObject({ activityProgress: 'Completed', gradingProgress: 'FullyGraded' });
    // One column: every score went to the task's own line item, and the LMS has one item for its resource link.
    expect(new Set(scores.map((s) => s.lineItemId)).size).toBe(1);
    const task = (await stack.db.db.execute<{ line_item_url: string; line_items_url: string; resource_link_id: string }>(sql`select line_item_url, line_items_url, resource_link_id from tasks where id = ${home.taskId}`)).rows[0]!;
    expect(scores[0]!.lineItemId).toBe(task.line_item_url);
    const reg = stack.devlms.devlms.toolRegistration();
    const columns = await new AgsClient(stack.tool.lti.lti).listLineItems({ issuer: reg.issuer, clientId: reg.clientId }, task.line_items_url, { resourceLinkId: task.resource_link_id });
    expect(columns).toHaveLength(1);
    // The model's result of the overridden one is unchanged beside the override.
    const after = (await stack.db.db.execute<{ result: unknown; score: number; override_score: number }>(sql`select result, score, override_score from assessments where id = ${overridden.id}`)).rows[0]!;
    expect(after).toEqual({ ...originalResult, override_score: overrideScore });
  }, 120_000);
});
