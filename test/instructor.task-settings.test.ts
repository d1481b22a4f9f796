import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { sql } from 'drizzle-orm';
import { silentLogger } from '../src/log.js';
import { AgsClient } from '../src/lti/ags.client.js';
import { gradeSyncJob } from '../src/jobs/grade-sync.job.js';
import { startStack, type Stack } from './helpers/stack.js';
import type { ToolSession } from './helpers/lti-browser.js';
import { textOf } from './helpers/html.js';
import { createAssessment, homeIds, lmsScores, SUBS } from './helpers/assessments.js';
import { activatePrompt, allowLlm, postMultipart } from './helpers/queue-fixtures.js';

/**
 * Task settings (issue 18, item 2): description and criteria, attempts and which counts, due date and late policy,
 * release after approval or at once above a confidence threshold, a note for the wait; in the settings page and the
 * deep-linking form, and honoured where students submit, see feedback and where grades pass back.
 */
describe('task settings', () => {
  let stack: Stack;
  let instructor: ToolSession;
  let student1: ToolSession;
  let ids: Awaited<ReturnType<typeof homeIds>>;
  const settingsPath = () => `/instructor/tasks/${ids.taskId}/settings`;
  const task = async () => (await stack.db.db.execute<Record<string, unknown>>(sql`
    select title, description, criteria, max_score, max_attempts, attempt_policy, due_at, late_policy, release_policy, auto_release_min_confidence, waiting_note
    from tasks where id = ${ids.taskId}`)).rows[0]!;
  const valid = (over: Record<string, string> = {}) => ({
    title: 'Essay: Causes of the French Revolution',
    maxScore: '100',
    description: 'Explain the causes of the Revolution.',
    criteria: 'Thesis, evidence from two primary sources, clarity.',
    maxAttempts: '3',
    attemptPolicy: 'best',
    dueAt: '2030-12-18T17:00',
    tzOffset: '-60',
    latePolicy: 'accept',
    releasePolicy: 'after_approval',
    autoReleaseMinConfidence: '',
    waitingNote: 'Re-read your conclusion while you wait.',
    ...over,
  });

  beforeAll(async () => {
    stack = await startStack({ env: { GRADE_SYNC_BACKOFF_MS: '0' } });
    instructor = await stack.browser().launch(stack.devlmsUrl, 'instructor', { task: '1' });
    student1 = await stack.browser().launch(stack.devlmsUrl, 'student1', { task: '1' });
    await stack.browser().launch(stack.devlmsUrl, 'student2', { task: '1' });
    ids = await homeIds(stack);
    await allowLlm(stack.db.db, ids.courseId, ids.instructorId);
    // The built-in short-answer prompt is out of 10 while the task is out of 100.
    await activatePrompt(stack.db.db, ids, ids.taskId);
  }, 60_000);
  afterAll(async () => {
    await stack?.close();
  });

  it('shows the settings, and warns when the prompt\'s rubric total is not the task\'s maximum', async () => {
    const page = await instructor.get(settingsPath());
    expect(page.status).toBe(200);
    for (const name of ['description', 'criteria', 'maxAttempts', 'attemptPolicy', 'dueAt', 'latePolicy', 'releasePolicy', 'autoReleaseMinConfidence', 'waitingNote']) expect(page.html).toContain(`name="${name}"`);
    expect(textOf(page.html)).toContain("The grading prompt's rubric totals 10 points, but this task is out of 100");
    // The task's line item holds its maximum: the field is read only.
    expect(page.html).toMatch(/id="ts-max-score"[^>]*readonly/);
  });

  it('refuses bad values with a message beside each field, and saves nothing', async () => {
    const before = await task();
    const res = await instructor.post(settingsPath(), valid({ title: '', maxAttempts: '0', dueAt: 'next friday', autoReleaseMinConfidence: '150', attemptPolicy: 'median' }), { htmx: true });
    expect(res.status).toBe(422);
    expect(res.html).toMatch(/id="ts-title"[^>]*aria-invalid="true"/);
    const text = textOf(res.html);
    expect(text).toContain('Give the task a title.');
    expect(text).toContain('At least 1 attempt.');
    expect(text).toContain('Enter a date and time, e.g. 2026-12-18 17:00.');
    expect(text).toContain('From 0 to 100.');
    expect(text).toContain('Choose which attempt counts: the last or the best.');
    // What was typed is shown again.
    expect(res.html).toContain('value="next friday"');
    const linked = await instructor.post(settingsPath(), valid({ maxScore: '50' }), { htmx: true });
    expect(linked.status).toBe(422);
    expect(textOf(linked.html)).toContain("This task's maximum is its LMS gradebook column's (100)");
    expect(await task()).toEqual(before);
  });

  it('saves valid settings (the due date in the instructor\'s zone), audited', async () => {
    const res = await instructor.post(settingsPath(), valid(), { htmx: true });
    expect(res.status).toBe(200);
    expect(textOf(res.html)).toContain('Saved.');
    expect(await task()).toMatchObject({
      description: 'Explain the causes of the Revolution.',
      criteria: 'Thesis, evidence from two primary sources, clarity.',
      max_attempts: 3,
      attempt_policy: 'best',
      late_policy: 'accept',
      release_policy: 'after_approval',
      auto_release_min_confidence: null,
      waiting_note: 'Re-read your conclusion while you wait.',
    });
    // 17:00 at UTC+1 (offset −60) is 16:00 UTC.
    expect(new Date((await task()).due_at as string).toISOString()).toBe('2030-12-18T16:00:00.000Z');
    const audit = await stack.db.db.execute<{ details: { changed: string[] } }>(sql`select details from audit_log where action = 'task.settings_changed' and entity_id = ${ids.taskId}`);
    expect(audit.rows[0]!.details.changed).toEqual(expect.arrayContaining(['description', 'criteria', 'maxAttempts', 'attemptPolicy', 'dueAt', 'waitingNote']));
  });

  it('shows the student the task, its criteria, the due date and what to do while waiting, above the form', async () => {
    const page = await student1.get(`/student/tasks/${ids.taskId}`);
    const text = textOf(page.html);
    expect(text).toContain('Explain the causes of the Revolution.');
    expect(text).toContain('How it is graded Thesis, evidence from two primary sources, clarity.');
    expect(text).toContain('up to 3 attempts (your best one counts)');
    expect(page.html).toContain('datetime="2030-12-18T16:00:00.000Z" data-local');
    expect(text).toContain('While you wait Re-read your conclusion while you wait.');
    expect(page.html.indexOf('id="task-brief"')).toBeLessThan(page.html.indexOf('id="student-submit"'));
  });

  it('takes late work marked late, or refuses it, as the late policy says', async () => {
    await stack.db.db.execute(sql`update tasks set due_at = now() - interval '1 hour' where id = ${ids.taskId}`);
    const late = await postMultipart(student1, `/student/tasks/${ids.taskId}/submissions`, { text: 'Handed in an hour late.' });
    expect(late.status).toBe(201);
    expect(late.html).toContain('badge-late');
    const mine = (await student1.get('/api/my/submissions/')).json<{ submissions: Array<{ late: boolean }> }>();
    expect(mine.submissions[0]!.late).toBe(true);
    await instructor.post(settingsPath(), valid({ dueAt: '2020-01-01T00:00', tzOffset: '0', latePolicy: 'refuse' }), { htmx: true });
    const page = await student1.get(`/student/tasks/${ids.taskId}`);
    expect(textOf(page.html)).toContain('takes no late work');
    expect(page.html).not.toContain('id="student-submit"');
    const refused = await postMultipart(student1, `/student/tasks/${ids.taskId}/submissions`, { text: 'Too late.' });
    expect(refused.status).toBe(409);
    expect(textOf(refused.html)).toContain('takes no late work');
    await instructor.post(settingsPath(), valid({ dueAt: '' }), { htmx: true });
    expect((await task()).due_at).toBeNull();
  });

  it('releases at once only results at or above the confidence threshold, never flagged ones', async () => {
    expect((await instructor.post(settingsPath(), valid({ releasePolicy: 'immediately', autoReleaseMinConfidence: '80' }), { htmx: true })).status).toBe(200);
    expect((await task()).auto_release_min_confidence).toBeCloseTo(0.8);
    const confident = await createAssessment(stack, { taskId: ids.taskId, studentSub: SUBS.student1, confidence: 0.9 });
    const unsure = await createAssessment(stack, { taskId: ids.taskId, studentSub: SUBS.student1, confidence: 0.7 });
    const flagged = await createAssessment(stack, { taskId: ids.taskId, studentSub: SUBS.student1, confidence: 0.95, flags: [{ code: 'score_clamped', message: 'x' }] });
    expect((await student1.get(`/student/submissions/${confident.submissionId}/feedback`)).status).toBe(200);
    expect((await student1.get(`/student/submissions/${unsure.submissionId}/feedback`)).status).toBe(404);
    expect((await student1.get(`/student/submissions/${flagged.submissionId}/feedback`)).status).toBe(404);
    // Back to "after approval": the threshold goes with it.
    await instructor.post(settingsPath(), valid({ autoReleaseMinConfidence: '80' }), { htmx: true });
    expect((await task()).auto_release_min_confidence).toBeNull();
    expect((await student1.get(`/student/submissions/${confident.submissionId}/feedback`)).status).toBe(404);
  });

  it('passes the best attempt\'s grade back when the best counts: a worse later attempt does not lower it', async () => {
    const deps = { db: stack.db.db, logger: silentLogger, config: stack.config, ags: new AgsClient(stack.tool.lti.lti, { timeoutMs: 2000 }) };
    const first = await createAssessment(stack, { taskId: ids.taskId, studentSub: SUBS.student2 });
    expect((await instructor.post(`/instructor/review/${first.id}/approve`, { decisionSeq: '0' }, { htmx: true })).status).toBe(200);
    await gradeSyncJob.handle(deps, {});
    const second = await createAssessment(stack, { taskId: ids.taskId, studentSub: SUBS.student2 });
    expect((await instructor.post(`/instructor/review/${second.id}/override`, { decisionSeq: '0', score: '3', category: 'other', reason: 'Weaker.' }, { htmx: true })).status).toBe(200);
    await gradeSyncJob.handle(deps, {});
    const scores = (await lmsScores(stack)).filter((s) => s.login === 'student2').map((s) => [s.scoreGiven, s.scoreMaximum]);
    // The first decision (8 / 10) and the second (3 / 10, worse) both post the best: 8 / 10.
    expect(scores).toEqual([[8, 10], [8, 10]]);
    await instructor.post(settingsPath(), valid({ attemptPolicy: 'last' }), { htmx: true });
    const third = await createAssessment(stack, { taskId: ids.taskId, studentSub: SUBS.student2 });
    expect((await instructor.post(`/instructor/review/${third.id}/override`, { decisionSeq: '0', score: '3', category: 'other', reason: 'Weaker again.' }, { htmx: true })).status).toBe(200);
    await gradeSyncJob.handle(deps, {});
    expect((await lmsScores(stack)).filter((s) => s.login === 'student2').at(-1)).toMatchObject({ scoreGiven: 3, scoreMaximum: 10 });
  });

  it('sets a new task up from the deep-linking form', async () => {
    const session = await stack.browser().launch(stack.devlmsUrl, 'instructor', { message: 'deep_linking' });
    const bad = await session.post('/deep-linking', { ltik: session.ltik, _csrf: session.csrf, taskId: 'new', title: 'Reflection', maxScore: '20', maxAttempts: '500' }, { csrf: false });
    expect(bad.status).toBe(422);
    expect(textOf(bad.html)).toContain('At most 100 attempts.');
    expect(bad.html).toMatch(/<details class="new-task-settings" open>/);
    const ok = await session.post('/deep-linking', {
      ltik: session.ltik, _csrf: session.csrf, taskId: 'new', title: 'Reflection', maxScore: '20',
      description: 'Reflect on the week.', criteria: 'Honesty and depth.', maxAttempts: '2', attemptPolicy: 'last', latePolicy: 'refuse', releasePolicy: 'after_approval', dueAt: '', waitingNote: '',
    }, { csrf: false });
    expect(ok.status).toBe(200);
    const created = (await stack.db.db.execute<Record<string, unknown>>(sql`select description, criteria, max_attempts, late_policy, max_score from tasks where title = 'Reflection'`)).rows;
    expect(created).toEqual([{ description: 'Reflect on the week.', criteria: 'Honesty and depth.', max_attempts: 2, late_policy: 'refuse', max_score: 20 }]);
  });
});
