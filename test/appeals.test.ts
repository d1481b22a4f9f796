import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { sql } from 'drizzle-orm';
import { silentLogger } from '../src/log.js';
import { AgsClient } from '../src/lti/ags.client.js';
import { gradeSyncJob } from '../src/jobs/grade-sync.job.js';
import { startStack, type Stack } from './helpers/stack.js';
import type { ToolSession } from './helpers/lti-browser.js';
import { textOf } from './helpers/html.js';
import { createAssessment, homeIds, lmsScores, SUBS } from './helpers/assessments.js';

/**
 * Appeals (issue 18, item 5): a student appeals a released result once per attempt with a reason; the instructor
 * sees appeals first, answers with a reply (uphold or change), a change reaches the gradebook, all audited.
 */
describe('appeals', () => {
  let stack: Stack;
  let instructor: ToolSession;
  let student1: ToolSession;
  let student2: ToolSession;
  let ids: Awaited<ReturnType<typeof homeIds>>;
  let upheld: { id: number; submissionId: number };
  let changed: { id: number; submissionId: number };
  const appealOf = async (submissionId: number) => (await stack.db.db.execute<{ status: string; reason: string; reply: string | null }>(sql`
    select status, reason, reply from appeals where submission_id = ${submissionId}`)).rows[0];
  const released = async (studentSub: string) => {
    const a = await createAssessment(stack, { taskId: ids.taskId, studentSub });
    expect((await instructor.post(`/instructor/review/${a.id}/approve`, { decisionSeq: '0' }, { htmx: true })).status).toBe(200);
    return a;
  };
  const appeal = (s: ToolSession, submissionId: number, reason: string) => s.post(`/student/submissions/${submissionId}/appeal`, { reason }, { htmx: true });

  beforeAll(async () => {
    stack = await startStack({ env: { GRADE_SYNC_BACKOFF_MS: '0' } });
    instructor = await stack.browser().launch(stack.devlmsUrl, 'instructor', { task: '1' });
    student1 = await stack.browser().launch(stack.devlmsUrl, 'student1', { task: '1' });
    student2 = await stack.browser().launch(stack.devlmsUrl, 'student2', { task: '1' });
    ids = await homeIds(stack);
    upheld = await released(SUBS.student1);
    changed = await released(SUBS.student2);
  }, 60_000);
  afterAll(async () => {
    await stack?.close();
  });

  it('lets a student appeal a released result once, with a reason (a short one refused)', async () => {
    const page = await student1.get(`/student/submissions/${upheld.submissionId}/feedback`);
    expect(page.html).toContain('id="appeal-reason"');
    const short = await appeal(student1, upheld.submissionId, 'unfair');
    expect(short.status).toBe(422);
    expect(short.html).toContain('at least 10 characters');
    expect(short.html).toContain('unfair');
    expect(await appealOf(upheld.submissionId)).toBeUndefined();
    const sent = await appeal(student1, upheld.submissionId, 'My second source was a primary source, not secondary.');
    expect(sent.status).toBe(201);
    expect(textOf(sent.html)).toContain('Your appeal was sent to your instructor.');
    expect(await appealOf(upheld.submissionId)).toEqual({ status: 'open', reason: 'My second source was a primary source, not secondary.', reply: null });
    const twice = await appeal(student1, upheld.submissionId, 'And another thing, once more.');
    expect(twice.status).toBe(409);
    expect(textOf(twice.html)).toContain('You have already appealed this attempt');
  });

  it('refuses appeals of results not released, or of another student\'s work (404, nothing stored)', async () => {
    const pending = await createAssessment(stack, { taskId: ids.taskId, studentSub: SUBS.student1 });
    expect((await appeal(student1, pending.submissionId, 'Not even released yet, but still.')).status).toBe(404);
    expect((await appeal(student1, changed.submissionId, 'Somebody else\'s work, appealed.')).status).toBe(404);
    expect(await appealOf(pending.submissionId)).toBeUndefined();
    expect(await appealOf(changed.submissionId)).toBeUndefined();
  });

  it('shows the instructor appeals first in review, marked, and as a filter', async () => {
    await createAssessment(stack, { taskId: ids.taskId, studentSub: SUBS.student2, confidence: 0.2, flags: [{ code: 'low_confidence', message: 'x' }] });
    const all = await instructor.get('/instructor/review?status=all');
    const rows = [...all.html.matchAll(/data-assessment="(\d+)"/g)].map((m) => Number(m[1]));
    expect(rows[0]).toBe(upheld.id);
    expect(all.html).toMatch(new RegExp(`data-assessment="${upheld.id}"[\\s\\S]*?badge-appeal`));
    const only = await instructor.get('/instructor/review?status=appeals');
    expect([...only.html.matchAll(/data-assessment="(\d+)"/g)].map((m) => Number(m[1]))).toEqual([upheld.id]);
    const page = await instructor.get(`/instructor/review/${upheld.id}`);
    expect(textOf(page.html)).toContain('Appeal from the student Waiting for your answer');
    expect(textOf(page.html)).toContain('My second source was a primary source, not secondary.');
  });

  it('upholds with a reply (required): the grade stays, the student reads the reply', async () => {
    const noReply = await instructor.post(`/instructor/review/${upheld.id}/appeal`, { decisionSeq: '1', outcome: 'uphold', reply: '' }, { htmx: true });
    expect(noReply.status).toBe(422);
    expect(noReply.html).toContain('Reply to the student');
    const ok = await instructor.post(`/instructor/review/${upheld.id}/appeal`, { decisionSeq: '1', outcome: 'uphold', reply: 'Both sources are secondary; see the guide.' }, { htmx: true });
    expect(ok.status).toBe(200);
    expect(textOf(ok.html)).toContain('Appeal answered.');
    expect(await appealOf(upheld.submissionId)).toMatchObject({ status: 'upheld', reply: 'Both sources are secondary; see the guide.' });
    const grade = (await stack.db.db.execute<{ review_status: string; decision_seq: number }>(sql`select review_status, decision_seq from assessments where id = ${upheld.id}`)).rows[0]!;
    expect(grade).toEqual({ review_status: 'approved', decision_seq: 1 });
    const feedback = textOf((await student1.get(`/student/submissions/${upheld.submissionId}/feedback`)).html);
    expect(feedback).toContain('Result upheld.');
    expect(feedback).toContain("Your instructor's reply: Both sources are secondary; see the guide.");
    const again = await instructor.post(`/instructor/review/${upheld.id}/appeal`, { decisionSeq: '1', outcome: 'uphold', reply: 'Again.' }, { htmx: true });
    expect(again.status).toBe(409);
  });

  it('changes the grade on appeal: the override rules apply, the new grade reaches the gradebook, all audited', async () => {
    expect((await appeal(student2, changed.submissionId, 'The clarity criterion ignored my structure.')).status).toBe(201);
    const noGrade = await instructor.post(`/instructor/review/${changed.id}/appeal`, { decisionSeq: '1', outcome: 'change', reply: 'You are right.' }, { htmx: true });
    expect(noGrade.status).toBe(422);
    expect(noGrade.html).toContain('Enter the score you give.');
    expect(await appealOf(changed.submissionId)).toMatchObject({ status: 'open' });
    // A changed grade is an override: what was wrong with the model's grade is asked there too, beside the field.
    const grades = { 'criteria[thesis]': '32', 'criteria[evidence]': '32', 'criteria[clarity]': '20' };
    const noCategory = await instructor.post(`/instructor/review/${changed.id}/appeal`, { decisionSeq: '1', outcome: 'change', reply: 'You are right.', ...grades }, { htmx: true });
    expect(noCategory.status).toBe(422);
    expect(noCategory.html).toMatch(/<p id="ap-category-error" class="field-error">Choose what was wrong with the model&#39;s grade/);
    expect(await appealOf(changed.submissionId)).toMatchObject({ status: 'open' });
    const ok = await instructor.post(`/instructor/review/${changed.id}/appeal`, {
      decisionSeq: '1', outcome: 'change', reply: 'You are right about the structure.', category: 'too_harsh', ...grades,
    }, { htmx: true });
    expect(ok.status).toBe(200);
    expect(await appealOf(changed.submissionId)).toMatchObject({ status: 'changed', reply: 'You are right about the structure.' });
    const grade = (await stack.db.db.execute<{ review_status: string; override_score: number; grade_sync_status: string }>(sql`
      select review_status, override_score, grade_sync_status from assessments where id = ${changed.id}`)).rows[0]!;
    expect(grade).toEqual({ review_status: 'overridden', override_score: 84, grade_sync_status: 'pending' });
    expect((await stack.db.db.execute<{ override_category: string }>(sql`select override_category from assessments where id = ${changed.id}`)).rows[0]).toEqual({ override_category: 'too_harsh' });
    const deps = { db: stack.db.db, logger: silentLogger, config: stack.config, ags: new AgsClient(stack.tool.lti.lti, { timeoutMs: 2000 }) };
    await gradeSyncJob.handle(deps, {});
    expect((await lmsScores(stack)).filter((s) => s.login === 'student2').at(-1)).toMatchObject({ scoreGiven: 84, scoreMaximum: 100 });
    const feedback = await student2.get(`/student/submissions/${changed.submissionId}/feedback`);
    expect(feedback.html).toMatch(/data-score>84 \/ 100</);
    expect(textOf(feedback.html)).toContain('From your instructor You are right about the structure.');
    expect(textOf(feedback.html)).toContain('Grade changed.');
    const actions = (await stack.db.db.execute<{ action: string }>(sql`
      select action from audit_log where (entity_type = 'appeal') or (entity_type = 'assessment' and entity_id = ${changed.id}) order by id`)).rows.map((r) => r.action);
    expect(actions).toEqual(['assessment.approved', 'appeal.created', 'appeal.resolved', 'appeal.created', 'assessment.overridden', 'appeal.resolved', 'grade.synced']);
  });

  it('lets a student rate how soon the feedback came, once per released attempt (issue 19, item 6)', async () => {
    const rating = async (submissionId: number) => (await stack.db.db.execute<{ rating: number; comment: string | null }>(sql`select rating, comment from feedback_ratings where submission_id = ${submissionId}`)).rows;
    const page = await student1.get(`/student/submissions/${upheld.submissionId}/feedback`);
    expect(textOf(page.html)).toContain('Did this feedback come in time?');
    const bad = await student1.post(`/student/submissions/${upheld.submissionId}/rating`, { rating: '7', comment: 'x' }, { htmx: true });
    expect(bad.status).toBe(422);
    expect(bad.html).toContain('Choose a rating from 1 to 5.');
    expect(await rating(upheld.submissionId)).toEqual([]);
    const ok = await student1.post(`/student/submissions/${upheld.submissionId}/rating`, { rating: '4', comment: 'A day is fine.' }, { htmx: true });
    expect(ok.status).toBe(201);
    expect(textOf(ok.html)).toMatch(/You rated the timing 4 of 5 ?\. A day is fine\./);
    expect(await rating(upheld.submissionId)).toEqual([{ rating: 4, comment: 'A day is fine.' }]);
    const twice = await student1.post(`/student/submissions/${upheld.submissionId}/rating`, { rating: '1' }, { htmx: true });
    expect(twice.status).toBe(409);
    expect(await rating(upheld.submissionId)).toEqual([{ rating: 4, comment: 'A day is fine.' }]);
    const pending = await createAssessment(stack, { taskId: ids.taskId, studentSub: SUBS.student1 });
    expect((await student1.post(`/student/submissions/${pending.submissionId}/rating`, { rating: '5' }, { htmx: true })).status).toBe(404);
    expect((await student1.post(`/student/submissions/${changed.submissionId}/rating`, { rating: '5' }, { htmx: true })).status).toBe(404);
  });
});
