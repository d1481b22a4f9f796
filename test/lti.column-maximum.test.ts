import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { sql } from 'drizzle-orm';
import { AgsClient } from '../src/lti/ags.client.js';
import { readColumnJob } from '../src/jobs/read-column.job.js';
import { callLms } from '../src/jobs/lms-call.js';
import { gradebookScale } from '../src/models/tasks/column-maximum.service.js';
import { silentLogger } from '../src/log.js';
import { startStack, type Stack } from './helpers/stack.js';
import { createAssessment, SUBS } from './helpers/assessments.js';
import { textOf } from './helpers/html.js';
import { until } from './helpers/until.js';

const ESSAY_LINK = '3c9e7a10-5b2d-4f8e-a1c4-7d6e5f4a3b01';
const SHORT_LINK = '3c9e7a10-5b2d-4f8e-a1c4-7d6e5f4a3b02';

/**
 * Issue 15, item 4: tasks made at their first launch were out of 100 whatever the LMS column said (50, 20, 10 in
 * the Moodle run), and students read "42.5/100" where Moodle showed 21.25/50. The task's maximum now follows its
 * column, read through AGS by a worker job that the first launch and every staff launch ask for.
 */
describe('a task graded out of its LMS column maximum', () => {
  let stack: Stack;
  const taskOfLink = async (link: string) =>
    (await stack.db.db.execute<{ id: number; max_score: string }>(sql`select id, max_score from tasks where resource_link_id = ${link}`)).rows[0];
  const maxOf = async (link: string) => Number((await taskOfLink(link))?.max_score);
  const setColumnMax = (link: string, max: number) => stack.db.db.execute(sql`update devlms.line_items set score_maximum = ${max} where resource_link_id = ${link}`);
  const whenMaxIs = (link: string, max: number) => until(`task max ${max}`, async () => ((await maxOf(link)) === max ? true : undefined), 15_000);

  beforeAll(async () => {
    stack = await startStack({ role: 'all', env: { GRADE_SYNC_BACKOFF_MS: '0' } });
  }, 60_000);
  afterAll(async () => {
    stack?.devlms.devlms.setFaults({});
    await stack?.close();
  });

  it('takes the column maximum at the first launch, even a student\'s, and shows it to students', async () => {
    const student = await stack.browser().launch(stack.devlmsUrl, 'student1', { task: '2' });
    expect(await maxOf(SHORT_LINK)).toBe(100); // made at this launch, before the column is read
    await whenMaxIs(SHORT_LINK, 10);
    const page = await student.get(new URL(student.home.url).pathname);
    expect(textOf(page.html)).toContain('up to 10 points');
    const audit = await stack.db.db.execute<{ details: { from: number; to: number } }>(sql`select details from audit_log where action = 'task.max_score_from_lms'`);
    expect(audit.rows.map((r) => r.details)).toEqual([{ from: 100, to: 10 }]);
  });

  it('follows a change made in the LMS when an instructor next opens the task', async () => {
    await setColumnMax(SHORT_LINK, 20);
    await stack.browser().launch(stack.devlmsUrl, 'instructor', { task: '2' });
    await whenMaxIs(SHORT_LINK, 20);
  });

  it('shows students and instructors the score on the gradebook\'s scale', async () => {
    const instructor = await stack.browser().launch(stack.devlmsUrl, 'instructor', { task: '1' });
    const taskId = (await taskOfLink(ESSAY_LINK))!.id;
    await whenMaxIs(ESSAY_LINK, 100);
    // Graded out of 100 by its rubric; the column is then set to 50 in the LMS.
    const a = await createAssessment(stack, { taskId, studentSub: SUBS.student1, criteria: { thesis: 20, evidence: 12.5, clarity: 10 } });
    expect(a.score).toBe(42.5);
    expect((await instructor.post(`/instructor/review/${a.id}/approve`, { decisionSeq: '0' }, { htmx: true })).status).toBe(200);
    await setColumnMax(ESSAY_LINK, 50);
    const again = await stack.browser().launch(stack.devlmsUrl, 'instructor', { task: '1' });
    await whenMaxIs(ESSAY_LINK, 50);

    const student = await stack.browser().launch(stack.devlmsUrl, 'student1', { task: '1' });
    const feedback = await student.get(`/student/submissions/${a.submissionId}/feedback`);
    expect(feedback.status).toBe(200);
    expect(textOf(feedback.html)).toContain('21.25 / 50 as in your course\'s gradebook (42.5 / 100 on the rubric below)');
    const review = await again.get(`/instructor/review/${a.id}`);
    expect(textOf(review.html)).toContain('42.5 / 100 (21.25 / 50 in the LMS gradebook)');
    // The LMS receives the rubric's scale and scales it itself, as Moodle does.
    await until('the grade in the LMS', async () => {
      const scores = await stack.db.db.execute<{ score_given: string; score_maximum: string }>(sql`select score_given, score_maximum from devlms.scores order by id desc limit 1`);
      return scores.rows[0] && Number(scores.rows[0].score_given) === 42.5 ? scores.rows[0] : undefined;
    });
  });

  it('leaves the maximum as it is when the LMS does not answer, or answers a maximum out of range', async () => {
    const taskId = (await taskOfLink(SHORT_LINK))!.id;
    const deps = { db: stack.db.db, logger: silentLogger, ags: new AgsClient(stack.tool.lti.lti, { timeoutMs: 2000 }) };
    await setColumnMax(SHORT_LINK, 30);
    stack.devlms.devlms.setFaults({ ags: { failNext: 1, status: 500 } });
    await expect(readColumnJob.handle(deps, { taskId })).resolves.toBeUndefined();
    expect(await maxOf(SHORT_LINK)).toBe(20);
    await setColumnMax(SHORT_LINK, 5000);
    await readColumnJob.handle(deps, { taskId });
    expect(await maxOf(SHORT_LINK)).toBe(20);
    await setColumnMax(SHORT_LINK, 30);
    await readColumnJob.handle(deps, { taskId });
    expect(await maxOf(SHORT_LINK)).toBe(30);
  });

  it('says so and ends when the runner has no LMS client; a bug in the work is thrown, not swallowed', async () => {
    const warnings: string[] = [];
    const logger = { ...silentLogger, warn: (message: string) => void warnings.push(message) };
    await readColumnJob.handle({ db: stack.db.db, logger }, { taskId: (await taskOfLink(SHORT_LINK))!.id });
    expect(warnings).toEqual(['reading the gradebook column skipped: this runner has no LMS services client']);
    await expect(callLms(silentLogger, 'a call', {}, {}, async () => {
      throw new TypeError('a bug');
    })).rejects.toThrow('a bug');
  });

  it('converts scores between scales', () => {
    expect(gradebookScale(42.5, 100, 50)).toBe(21.25);
    expect(gradebookScale(9, 20, 10)).toBe(4.5);
    expect(gradebookScale(7, 10, 10)).toBe(7);
    expect(gradebookScale(1, 3, 10)).toBe(3.33);
  });
});
