import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { sql } from 'drizzle-orm';
import { startStack, type Stack } from './helpers/stack.js';
import type { ToolSession } from './helpers/lti-browser.js';
import { textOf } from './helpers/html.js';
import { createAssessment, homeIds, SUBS } from './helpers/assessments.js';
import { activatePrompt, allowLlm, submitMany, userIdOf } from './helpers/queue-fixtures.js';

/**
 * The instructor's view of a task (issue 18, item 1): every student with where their work stands, filters and a
 * search, "grade now", retry or grade by hand from failed work, and a CSV of scores and feedback.
 */
describe('instructor task view', () => {
  let stack: Stack;
  let instructor: ToolSession;
  let ids: Awaited<ReturnType<typeof homeIds>>;
  const home = () => ({ ...ids, task2Id: null });
  const page = (query = '') => instructor.get(`/instructor/tasks/${ids.taskId}${query}`);
  const rowOf = (html: string, studentId: number) => html.match(new RegExp(`<tr data-student="${studentId}" data-status="(\\w+)">([\\s\\S]*?)</tr>`));
  const item = async (id: number) => (await stack.db.db.execute<{ status: string; priority: string; admin_notes: string }>(sql`select status, priority, admin_notes from queue_items where id = ${id}`)).rows[0]!;
  let student1: number;
  let student2: number;
  let student3: number;
  let queuedItem: number | undefined;
  let failedItem: number | undefined;
  let failedSubmission: number;

  beforeAll(async () => {
    stack = await startStack();
    instructor = await stack.browser().launch(stack.devlmsUrl, 'instructor', { task: '1' });
    for (const s of ['student1', 'student2', 'student3']) await stack.browser().launch(stack.devlmsUrl, s, { task: '1' });
    ids = await homeIds(stack);
    await allowLlm(stack.db.db, ids.courseId, ids.instructorId);
    await activatePrompt(stack.db.db, ids, ids.taskId);
    [student1, student2, student3] = [await userIdOf(stack, SUBS.student1.slice(-4)), await userIdOf(stack, SUBS.student2.slice(-4)), await userIdOf(stack, SUBS.student3.slice(-4))];
    // student1: waiting in the queue; student2: graded and approved; student3: failed.
    [queuedItem] = await submitMany(stack, home(), ids.taskId, student1!, 1, 'Queued work');
    const graded = await createAssessment(stack, { taskId: ids.taskId, studentSub: SUBS.student2 });
    expect((await instructor.post(`/instructor/review/${graded.id}/approve`, { decisionSeq: '0' }, { htmx: true })).status).toBe(200);
    await stack.db.db.execute(sql`update users set name = '=HYPERLINK("http://evil")' where id = ${student2!}`);
    [failedItem] = await submitMany(stack, home(), ids.taskId, student3!, 1, 'Work the grader failed on');
    await stack.db.db.execute(sql`update queue_items set status = 'failed', attempts = 3, last_error = 'The provider refused the request.' where id = ${failedItem!}`);
    failedSubmission = Number((await stack.db.db.execute<{ id: number }>(sql`select submission_id as id from queue_items where id = ${failedItem!}`)).rows[0]!.id);
  }, 90_000);
  afterAll(async () => {
    await stack?.close();
  });

  it('lists every student with status, score, attempts and last activity', async () => {
    const res = await page();
    expect(res.status).toBe(200);
    expect(rowOf(res.html, student1!)?.[1]).toBe('queued');
    expect(textOf(rowOf(res.html, student1!)![2]!)).toMatch(/Queued position 1 in the queue graded .* \(estimate\)/);
    expect(rowOf(res.html, student2!)?.[1]).toBe('released');
    // The prompt activated above is out of 10: the assessment's 80 % is 8 / 10.
    expect(textOf(rowOf(res.html, student2!)![2]!)).toContain('Released 8 / 10 1');
    expect(rowOf(res.html, student3!)?.[1]).toBe('failed');
    expect(textOf(rowOf(res.html, student3!)![2]!)).toContain('error: The provider refused the request.');
    // Counts per status in the filter's choices.
    expect(textOf(res.html)).toContain('Queued (1)');
    expect(textOf(res.html)).toContain('Failed (1)');
    expect(textOf(res.html)).toContain('Released (1)');
  });

  it('filters by status and searches by name (htmx gets the list alone); nonsense filters are ignored', async () => {
    const failed = await page('?status=failed');
    expect([...failed.html.matchAll(/<tr data-student="(\d+)"/g)].map((m) => Number(m[1]))).toEqual([student3]);
    const byName = await instructor.get(`/instructor/tasks/${ids.taskId}?q=chen`, { htmx: true });
    expect(byName.html.startsWith('<section id="task-students"')).toBe(true);
    expect([...byName.html.matchAll(/<tr data-student="(\d+)"/g)].map((m) => Number(m[1]))).toEqual([student3]);
    const nonsense = await page('?status=bogus&q=');
    expect(nonsense.status).toBe(200);
    expect([...nonsense.html.matchAll(/<tr data-student="(\d+)"/g)].length).toBeGreaterThanOrEqual(3);
  });

  it('asks for waiting work to be graded first, once (then a clear 409)', async () => {
    const res = await instructor.post(`/instructor/tasks/${ids.taskId}/grade-now`, {}, { htmx: true });
    expect(res.status).toBe(200);
    expect(textOf(res.html)).toContain('1 waiting item goes to the front of the queue');
    expect(await item(queuedItem!)).toMatchObject({ status: 'queued', priority: 'high' });
    expect((await item(queuedItem!)).admin_notes).toContain('The instructor asked for this to be graded first');
    expect(textOf(rowOf(res.html, student1!)![2]!)).toContain('asked to be graded first');
    const again = await instructor.post(`/instructor/tasks/${ids.taskId}/grade-now`, {}, { htmx: true });
    expect(again.status).toBe(409);
    expect(textOf(again.html)).toContain('Nothing of this task is waiting at normal priority');
    const audit = await stack.db.db.execute<{ n: number }>(sql`select count(*)::int as n from audit_log where action = 'queue.grade_now_requested' and entity_id = ${ids.taskId}`);
    expect(audit.rows[0]!.n).toBe(1);
  });

  it('retries failed work (back in the queue), and refuses to retry work that has not failed', async () => {
    const notFailed = await instructor.post(`/instructor/tasks/${ids.taskId}/submissions/${Number((await stack.db.db.execute<{ id: number }>(sql`select submission_id as id from queue_items where id = ${queuedItem!}`)).rows[0]!.id)}/retry`, {}, { htmx: true });
    expect(notFailed.status).toBe(409);
    expect(textOf(notFailed.html)).toContain('Only work whose grading failed or was taken out of the queue');
    const res = await instructor.post(`/instructor/tasks/${ids.taskId}/submissions/${failedSubmission}/retry`, {}, { htmx: true });
    expect(res.status).toBe(200);
    expect(textOf(res.html)).toContain('The work is back in the grading queue.');
    const items = await stack.db.db.execute<{ status: string }>(sql`select status from queue_items where submission_id = ${failedSubmission} order by id`);
    expect(items.rows.map((r) => r.status)).toEqual(['failed', 'queued']);
    expect(rowOf(res.html, student3!)?.[1]).toBe('queued');
    // A plain form post answers with a redirect back to the task page.
    const again = await instructor.post(`/instructor/tasks/${ids.taskId}/submissions/${failedSubmission}/retry`, {});
    expect(again.status).toBe(409);
  });

  it('takes failed work to grade by hand, once', async () => {
    const [another] = await submitMany(stack, home(), ids.taskId, student3!, 1, 'Another failure');
    await stack.db.db.execute(sql`update queue_items set status = 'failed', last_error = 'x' where id = ${another!}`);
    const submissionId = Number((await stack.db.db.execute<{ id: number }>(sql`select submission_id as id from queue_items where id = ${another!}`)).rows[0]!.id);
    const res = await instructor.post(`/instructor/tasks/${ids.taskId}/submissions/${submissionId}/grade-by-hand`, {}, { htmx: true });
    expect(res.status).toBe(200);
    expect(rowOf(res.html, student3!)?.[1]).toBe('manual');
    const manual = await stack.db.db.execute<{ kind: string; review_status: string }>(sql`select kind, review_status from assessments where submission_id = ${submissionId}`);
    expect(manual.rows).toEqual([{ kind: 'manual', review_status: 'pending_review' }]);
    const twice = await instructor.post(`/instructor/tasks/${ids.taskId}/submissions/${submissionId}/grade-by-hand`, {}, { htmx: true });
    expect(twice.status).toBe(409);
    expect(textOf(twice.html)).toContain('already waiting to be graded by hand');
    const retry = await instructor.post(`/instructor/tasks/${ids.taskId}/submissions/${submissionId}/retry`, {}, { htmx: true });
    expect(retry.status).toBe(409);
    const unknown = await instructor.post(`/instructor/tasks/${ids.taskId}/submissions/99999999/grade-by-hand`, {}, { htmx: true });
    expect(unknown.status).toBe(404);
  });

  it('exports scores and feedback as CSV, formulas defused', async () => {
    const res = await instructor.get(`/instructor/tasks/${ids.taskId}/export.csv`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/csv');
    expect(res.headers.get('content-disposition')).toMatch(/attachment; filename="?Essay-Causes-of-the-French-Revolution-scores.csv"?/);
    const lines = res.html.replace(/^\uFEFF/, '').trim().split('\r\n');
    expect(lines[0]).toBe('student,attempts,latest_attempt,submitted_at_utc,late,status,score,max_score,latest_attempt_score,instructor_feedback,llm_comments');
    const graded = lines.find((l) => l.includes('HYPERLINK'))!;
    expect(graded!.startsWith(`"'=HYPERLINK(""http://evil"")"`)).toBe(true);
    expect(graded).toContain(',Released,8,10,');
    expect(lines.some((l) => l.includes(',Queued,'))).toBe(true);
  });
});
