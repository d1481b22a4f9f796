import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { sql } from 'drizzle-orm';
import { silentLogger } from '../src/log.js';
import { AgsClient } from '../src/lti/ags.client.js';
import { gradeSyncJob } from '../src/jobs/grade-sync.job.js';
import { startStack, type Stack } from './helpers/stack.js';
import type { ToolSession } from './helpers/lti-browser.js';
import { textOf } from './helpers/html.js';
import { homeIds, lmsScores } from './helpers/assessments.js';
import { activatePrompt, allowLlm, postMultipart, setMaxAttempts } from './helpers/queue-fixtures.js';

type Mine = { submissions: Array<{ submissionId: number; status: string; progressMessage: string; feedbackReleased: boolean; score: { value: number; max: number } | null; queuePosition: number | null; canEscalate: boolean }> };

/**
 * The manual grading path (issue 18, item 3): with LLM assessment off, or a student who does not consent, work is
 * still handed in; the instructor grades it by hand on the review page, and the grade goes to the LMS like any other.
 */
describe('grading by hand', () => {
  let stack: Stack;
  let instructor: ToolSession;
  let student1: ToolSession;
  let student2: ToolSession;
  let ids: Awaited<ReturnType<typeof homeIds>>;
  const path = () => `/student/tasks/${ids.taskId}/submissions`;
  const counts = async () => (await stack.db.db.execute<{ s: number; q: number; m: number }>(sql`
    select (select count(*)::int from submissions) as s, (select count(*)::int from queue_items) as q, (select count(*)::int from assessments where kind = 'manual') as m`)).rows[0]!;
  const manualOf = async (submissionId: number) => (await stack.db.db.execute<{ id: number; review_status: string; override_score: number | null; grade_sync_status: string; review_note: string | null; decision_seq: number }>(sql`
    select id, review_status, override_score, grade_sync_status, review_note, decision_seq from assessments where submission_id = ${submissionId} and kind = 'manual'`)).rows[0];
  const latestSubmission = async () => Number((await stack.db.db.execute<{ id: number }>(sql`select max(id) as id from submissions`)).rows[0]!.id);

  beforeAll(async () => {
    stack = await startStack({ env: { GRADE_SYNC_BACKOFF_MS: '0' } });
    instructor = await stack.browser().launch(stack.devlmsUrl, 'instructor', { task: '1' });
    student1 = await stack.browser().launch(stack.devlmsUrl, 'student1', { task: '1' });
    student2 = await stack.browser().launch(stack.devlmsUrl, 'student2', { task: '1' });
    ids = await homeIds(stack);
    await setMaxAttempts(stack.db.db, ids.taskId, 3);
  }, 60_000);
  afterAll(async () => {
    await stack?.close();
  });

  it('takes work while LLM assessment is off: no queue item, a manual assessment waiting for the instructor', async () => {
    const res = await postMultipart(student1, path(), { text: 'The Estates-General met in May 1789.' });
    expect(res.status).toBe(201);
    expect(textOf(res.html)).toContain('Your instructor will grade it by hand');
    expect(await counts()).toEqual({ s: 1, q: 0, m: 1 });
    const submissionId = await latestSubmission();
    expect(await manualOf(submissionId)).toMatchObject({ review_status: 'pending_review', override_score: null, review_note: 'LLM assessment is off for this course.' });
    // The student sees where it is, on the page and in the API; no feedback yet.
    expect(textOf(res.html)).toContain('With your instructor');
    const mine = (await student1.get('/api/my/submissions/')).json<Mine>();
    expect(mine.submissions[0]).toMatchObject({ submissionId, status: 'manual', feedbackReleased: false, score: null, queuePosition: null, canEscalate: false });
    expect(mine.submissions[0]!.progressMessage).toContain('Your instructor grades this attempt by hand');
    expect((await student1.get(`/student/submissions/${submissionId}/feedback`)).status).toBe(404);
    const audit = (await stack.db.db.execute<{ details: Record<string, unknown> }>(sql`select details from audit_log where action = 'submission.created' and entity_id = ${submissionId}`)).rows[0]!;
    expect(audit.details).toMatchObject({ gradedByHand: 'LLM assessment is off for this course.' });
  });

  it('shows it to the instructor to grade by hand, with no model result to approve or reject', async () => {
    const submissionId = await latestSubmission();
    const { id } = (await manualOf(submissionId))!;
    const list = await instructor.get('/instructor/review?status=manual');
    expect(list.status).toBe(200);
    expect(textOf(list.html)).toContain('To grade by hand');
    const page = await instructor.get(`/instructor/review/${id}`);
    const text = textOf(page.html);
    expect(text).toContain('Graded by hand');
    expect(text).toContain('The Estates-General met in May 1789.');
    expect(text).not.toContain('LLM result');
    expect(page.html).not.toMatch(/<button type="submit">Approve<\/button>/);
    expect(page.html).not.toMatch(/>Reject<\/button>/);
    expect(page.html).not.toContain('name="reason"');
    // Approving or rejecting through the routes is refused, and changes nothing.
    const approve = await instructor.post(`/instructor/review/${id}/approve`, { decisionSeq: '0' }, { htmx: true });
    expect(approve.status).toBe(409);
    expect(approve.html).toContain('graded by hand');
    const reject = await instructor.post(`/instructor/review/${id}/reject`, { decisionSeq: '0', rejectTo: 'queue', note: 'x' }, { htmx: true });
    expect(reject.status).toBe(409);
    const bulk = await instructor.post('/instructor/review/bulk-approve', { ids: String(id) }, { htmx: true });
    expect(textOf(bulk.html)).toContain('graded by hand');
    expect(await manualOf(submissionId)).toMatchObject({ review_status: 'pending_review', decision_seq: 0 });
  });

  it('is graded by hand without a reason, released, and passed back to the LMS gradebook', async () => {
    const submissionId = await latestSubmission();
    const { id } = (await manualOf(submissionId))!;
    const noScore = await instructor.post(`/instructor/review/${id}/override`, { decisionSeq: '0', feedback: 'Good.' }, { htmx: true });
    expect(noScore.status).toBe(422);
    expect(noScore.html).toContain('Enter the score you give.');
    const ok = await instructor.post(`/instructor/review/${id}/override`, { decisionSeq: '0', score: '77', feedback: 'A *clear* account.' }, { htmx: true });
    expect(ok.status).toBe(200);
    expect(textOf(ok.html)).toMatch(/Your grade: 77 \/ 100 ?\. An overall score\./);
    expect(await manualOf(submissionId)).toMatchObject({ review_status: 'overridden', override_score: 77, grade_sync_status: 'pending' });
    const actions = (await stack.db.db.execute<{ action: string }>(sql`select action from audit_log where entity_type = 'assessment' and entity_id = ${id} order by id`)).rows.map((r) => r.action);
    expect(actions).toEqual(['assessment.graded_by_hand']);

    // The student reads it as their instructor's grade, with their own work; no AI wording.
    const feedback = await student1.get(`/student/submissions/${submissionId}/feedback`);
    expect(feedback.status).toBe(200);
    const text = textOf(feedback.html);
    expect(text).toContain('Graded by your instructor.');
    expect(feedback.html).toMatch(/data-score>77 \/ 100</);
    expect(feedback.html).toContain('A <em>clear</em> account.');
    expect(text).toContain('The Estates-General met in May 1789.');
    expect(text).not.toContain("The AI's");
    expect(text).not.toContain('Strengths');
    const mine = (await student1.get('/api/my/submissions/')).json<Mine>();
    expect(mine.submissions[0]).toMatchObject({ status: 'completed', feedbackReleased: true, score: { value: 77, max: 100 } });

    // Grade sync posts it like any other decision.
    const deps = { db: stack.db.db, logger: silentLogger, config: stack.config, ags: new AgsClient(stack.tool.lti.lti, { timeoutMs: 2000 }) };
    await gradeSyncJob.handle(deps, {});
    const scores = (await lmsScores(stack)).filter((s) => s.login === 'student1');
    expect(scores.map((s) => [s.scoreGiven, s.scoreMaximum])).toEqual([[77, 100]]);
    expect(await manualOf(submissionId)).toMatchObject({ grade_sync_status: 'synced' });
  });

  it('grades on the rubric when the task has a prompt: every criterion or none, the score their sum', async () => {
    await activatePrompt(stack.db.db, { platformId: ids.platformId, courseId: ids.courseId, instructorId: ids.instructorId }, ids.taskId);
    const res = await postMultipart(student1, path(), { text: 'Second attempt, by hand again.' });
    expect(res.status).toBe(201);
    const submissionId = await latestSubmission();
    const { id } = (await manualOf(submissionId))!;
    const rubric = (await stack.db.db.execute<{ rubric: Array<{ id: string; maxPoints: number }> }>(sql`
      select pv.rubric from assessments a join prompt_versions pv on pv.id = a.prompt_version_id where a.id = ${id}`)).rows[0]!.rubric;
    expect(rubric.length).toBeGreaterThan(1);
    const page = await instructor.get(`/instructor/review/${id}`);
    for (const c of rubric) expect(page.html).toContain(`name="criteria[${c.id}]"`);
    // One criterion only: refused, each missing one named.
    const partial = await instructor.post(`/instructor/review/${id}/override`, { decisionSeq: '0', [`criteria[${rubric[0]!.id}]`]: '1' }, { htmx: true });
    expect(partial.status).toBe(422);
    expect(partial.html).toContain('Give every criterion its points, or leave them all empty');
    // A score that is not their sum: refused.
    const all = Object.fromEntries(rubric.map((c) => [`criteria[${c.id}]`, String(c.maxPoints / 2)]));
    const sum = rubric.reduce((t, c) => t + c.maxPoints / 2, 0);
    const wrong = await instructor.post(`/instructor/review/${id}/override`, { decisionSeq: '0', score: String(sum + 1), ...all }, { htmx: true });
    expect(wrong.status).toBe(422);
    expect(wrong.html).toContain(`The criteria add up to ${sum}`);
    expect(await manualOf(submissionId)).toMatchObject({ review_status: 'pending_review' });
    const ok = await instructor.post(`/instructor/review/${id}/override`, { decisionSeq: '0', ...all }, { htmx: true });
    expect(ok.status).toBe(200);
    expect(await manualOf(submissionId)).toMatchObject({ review_status: 'overridden', override_score: sum });
    const feedback = textOf((await student1.get(`/student/submissions/${submissionId}/feedback`)).html);
    expect(feedback).toContain('Per criterion');
    expect(feedback).not.toContain('set by your instructor');
  });

  describe('a course that asks for consent', () => {
    beforeAll(async () => {
      await allowLlm(stack.db.db, ids.courseId, ids.instructorId);
      await stack.db.db.execute(sql`update course_privacy set consent_required = true where course_id = ${ids.courseId}`);
    });

    it('asks the student to choose: neither chosen is refused (422) and stores nothing', async () => {
      const page = await student2.get(`/student/tasks/${ids.taskId}`);
      expect(page.html).toContain('How should this attempt be graded?');
      expect(page.html).toContain('id="submission-by-hand-choice"');
      const before = await counts();
      const res = await postMultipart(student2, path(), { text: 'No choice made.' });
      expect(res.status).toBe(422);
      expect(res.html).toContain('or choose to be graded by hand');
      expect(await counts()).toEqual(before);
    });

    it('grades by hand a student who does not consent, and queues the one who does', async () => {
      const before = await counts();
      const hand = await postMultipart(student2, path(), { text: 'Grade me by hand, please.', grading: 'hand' });
      expect(hand.status).toBe(201);
      expect(await counts()).toEqual({ s: before.s + 1, q: before.q, m: before.m + 1 });
      expect((await manualOf(await latestSubmission()))!.review_note).toBe('The student asked to be graded by hand rather than by an LLM.');
      const consented = await postMultipart(student2, path(), { text: 'Now the LLM may grade it.', consent: 'on' });
      expect(consented.status).toBe(201);
      expect(await counts()).toEqual({ s: before.s + 2, q: before.q + 1, m: before.m + 1 });
      expect(textOf(consented.html)).toContain('It waits in the grading queue');
    });
  });
});
