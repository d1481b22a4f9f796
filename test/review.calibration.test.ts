import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { sql } from 'drizzle-orm';
import { startStack, type Stack } from './helpers/stack.js';
import type { ToolSession } from './helpers/lti-browser.js';
import { textOf } from './helpers/html.js';
import { createAssessment, homeIds, SUBS } from './helpers/assessments.js';

/**
 * Calibrated confidence on the Agreement page (issue 22, item 4): a reliability table per prompt version, the review
 * threshold each task's decisions support, explained, and set on the task's own auto-release setting from there.
 */
describe('confidence against outcomes', () => {
  let stack: Stack;
  let instructor: ToolSession;
  let ids: Awaited<ReturnType<typeof homeIds>>;
  const task = async () => (await stack.db.db.execute<{ release_policy: string; auto_release_min_confidence: number | null }>(sql`
    select release_policy, auto_release_min_confidence from tasks where id = ${ids.taskId}`)).rows[0]!;

  beforeAll(async () => {
    stack = await startStack();
    instructor = await stack.browser().launch(stack.devlmsUrl, 'instructor', { task: '1' });
    for (const s of ['student1', 'student2', 'student3']) await stack.browser().launch(stack.devlmsUrl, s, { task: '1' });
    ids = await homeIds(stack);
    // 20 decisions on task 1 (prompt v1): 10 at 0.85 with 1 changed, 5 at 0.65 with 3 changed (2 overrides, 1
    // rejection), 5 at 0.3 with 4 changed. Hand-worked: at 0 8/20 changed, at 0.35 4/15, at 0.7 1/10 = 10 %: the
    // lowest threshold within 10 % is 70 %. Below it 7 of 10 were changed.
    const plan: Array<[number, 'approve' | 'override' | 'reject']> = [
      ...Array.from({ length: 10 }, (_, i) => [0.85, i === 0 ? 'override' : 'approve'] as [number, 'approve' | 'override']),
      [0.65, 'override'], [0.65, 'override'], [0.65, 'reject'], [0.65, 'approve'], [0.65, 'approve'],
      [0.3, 'override'], [0.3, 'override'], [0.3, 'override'], [0.3, 'reject'], [0.3, 'approve'],
    ];
    const subs = [SUBS.student1, SUBS.student2, SUBS.student3];
    for (const [i, [confidence, action]] of plan.entries()) {
      const a = await createAssessment(stack, { taskId: ids.taskId, studentSub: subs[i % 3]!, confidence });
      const form: Record<string, string> = action === 'approve' ? { decisionSeq: '0' } : action === 'override' ? { decisionSeq: '0', score: '10', category: 'too_lenient', reason: 'Lower.' } : { decisionSeq: '0', rejectTo: 'manual', note: 'Mine.' };
      expect((await instructor.post(`/instructor/review/${a.id}/${action}`, form, { htmx: true })).status).toBe(200);
    }
  }, 120_000);
  afterAll(async () => {
    await stack?.close();
  });

  it('tabulates each confidence band with the share approved unchanged, per prompt version', async () => {
    const page = await instructor.get('/instructor/analytics');
    expect(page.status).toBe(200);
    const table = page.html.match(/<table class="sticky-key" data-reliability="[^"]*prompt v1">[\s\S]*?<\/table>/)![0];
    expect(textOf(table.match(/<caption>[\s\S]*?<\/caption>/)![0])).toMatch(/prompt v1 \(20 decided\)$/);
    const rows = [...table.matchAll(/<tr><th scope="row">[\s\S]*?<\/tr>/g)].map((m) => textOf(m[0]));
    expect(rows).toEqual(['0–50 % 5 1 20.0 %', '50–60 % 0 0 —', '60–70 % 5 2 40.0 %', '70–80 % 0 0 —', '80–90 % 10 9 90.0 %', '90–100 % 0 0 —']);
  });

  it('suggests the review threshold with what it keeps and what it sends to review, and sets it on the task', async () => {
    expect(await task()).toEqual({ release_policy: 'after_approval', auto_release_min_confidence: null });
    const page = await instructor.get('/instructor/analytics');
    const block = textOf(page.html.match(new RegExp(`<div class="threshold" id="threshold-${ids.taskId}">[\\s\\S]*?</div>`))![0]);
    expect(block).toContain(': Review below 70 %');
    expect(block).toContain("Of prompt v1's 10 decided results at 70 % confidence or above, 1 was changed (10.0 %), within your 10 %. Below it, 7 of 10 were changed; those (50.0 % of results) would wait for your review.");
    expect(block).toContain('Now: feedback is released after your approval.');
    expect(block).toContain('Release at once from 70 %, review below');

    // A looser target moves it down: at 35 % 4 of 15 were changed (26.7 %), within 30 %.
    const looser = textOf((await instructor.get('/instructor/analytics?target=30')).html);
    expect(looser).toContain(': Review below 35 %');

    const applied = await instructor.post(`/instructor/analytics/tasks/${ids.taskId}/review-threshold`, { threshold: '70', target: '10' }, { htmx: false });
    expect(applied.status).toBe(200);
    expect(textOf(applied.html)).toContain('results at 70 % confidence or above are now released at once; below it they wait for your review');
    expect(await task()).toEqual({ release_policy: 'immediately', auto_release_min_confidence: 0.7 });
    const after = textOf(applied.html.match(new RegExp(`<div class="threshold" id="threshold-${ids.taskId}">[\\s\\S]*?</div>`))![0]);
    expect(after).toContain('Now: feedback is released at once when the result passes validation unflagged with confidence of at least 70%.');
    expect(after).not.toContain('Release at once from');
    // The task settings page shows the same setting.
    const settings = await instructor.get(`/instructor/tasks/${ids.taskId}/settings`);
    expect(settings.html).toMatch(/name="autoReleaseMinConfidence"[^>]*value="70"/);
    const audit = (await stack.db.db.execute<{ details: Record<string, unknown> }>(sql`
      select details from audit_log where action = 'task.settings_changed' and entity_id = ${ids.taskId} order by id desc limit 1`)).rows[0]!;
    expect(audit.details).toMatchObject({ changed: ['releasePolicy', 'autoReleaseMinConfidence'], reviewThreshold: 0.7, from: 'agreement' });
  });

  it('refuses a bad threshold or target beside its field, changing nothing', async () => {
    const before = await task();
    for (const threshold of ['', '101', '7.5', 'high']) {
      const res = await instructor.post(`/instructor/analytics/tasks/${ids.taskId}/review-threshold`, { threshold, target: '10' }, { htmx: false });
      expect(res.status).toBe(422);
      expect(res.html).toMatch(new RegExp(`<p id="threshold-error-${ids.taskId}" class="field-error">Choose a (threshold from 0 to 100 %|whole percentage from 0 to 100)\\.</p>`));
    }
    expect(await task()).toEqual(before);
    expect((await instructor.post('/instructor/analytics/tasks/987654/review-threshold', { threshold: '50' }, { htmx: false })).status).toBe(404);
    const badTarget = await instructor.get('/instructor/analytics?target=90');
    expect(badTarget.status).toBe(422);
    expect(badTarget.html).toMatch(/<p id="a-target-error" class="field-error">Enter a whole percentage from 1 to 50\.<\/p>/);
    expect(badTarget.html).toMatch(/id="a-target"[^>]*value="90"/);
  });

  it('says when there are too few decisions for a suggestion', async () => {
    // Task 2 gets a prompt version of its own with three decisions.
    await stack.browser().launch(stack.devlmsUrl, 'instructor', { task: '2' });
    const other = await homeIds(stack, '%Boston Tea Party%');
    for (const sub of [SUBS.student1, SUBS.student2, SUBS.student3]) {
      const a = await createAssessment(stack, { taskId: other.taskId, studentSub: sub, confidence: 0.8 });
      expect((await instructor.post(`/instructor/review/${a.id}/approve`, { decisionSeq: '0' }, { htmx: true })).status).toBe(200);
    }
    const block = textOf((await instructor.get('/instructor/analytics')).html.match(new RegExp(`<div class="threshold" id="threshold-${other.taskId}">[\\s\\S]*?</div>`))![0]);
    expect(block).toContain(': No suggestion yet');
    expect(block).toContain("3 of prompt v1's results have been decided; a suggestion needs at least 10 at or above a threshold.");
    expect(block).not.toContain('Release at once');
  });
});
