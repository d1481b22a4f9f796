import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { sql } from 'drizzle-orm';
import { startStack, type Stack } from './helpers/stack.js';
import type { ToolSession } from './helpers/lti-browser.js';
import { textOf } from './helpers/html.js';
import { activatePrompt, homeIds, postMultipart, setMaxAttempts, type Home } from './helpers/queue-fixtures.js';

/**
 * Issue 17, item 4: consent as a record. Per student and course: when, to which wording, withdrawn when;
 * withdrawing takes their waiting work out of the queue and blocks new work until they agree again; instructors
 * see who has not agreed.
 */
describe('consent to LLM assessment', () => {
  let stack: Stack;
  let instructor: ToolSession;
  let student1: ToolSession;
  let home: Home;
  let student1Id: number;
  const db = () => stack.db.db;
  const submit = (text: string, extra: Record<string, string> = {}) => postMultipart(student1, `/student/tasks/${home.taskId}/submissions`, { text, ...extra });
  const records = async () =>
    (await db().execute<{ wording_version: number; withdrawn: boolean }>(sql`select wording_version, withdrawn_at is not null as withdrawn from consent_records where user_id = ${student1Id} order by id`)).rows;

  beforeAll(async () => {
    stack = await startStack();
    instructor = await stack.browser().launch(stack.devlmsUrl, 'instructor', { task: '1' });
    student1 = await stack.browser().launch(stack.devlmsUrl, 'student1', { task: '1' });
    await stack.browser().launch(stack.devlmsUrl, 'student2', { task: '1' });
    home = await homeIds(stack);
    student1Id = Number((await db().execute<{ id: number }>(sql`select id from users where sub like '%5e02'`)).rows[0]!.id);
    await db().execute(sql`insert into course_privacy (course_id, llm_allowed, consent_required) values (${home.courseId}, true, true)`);
    await activatePrompt(db(), home, home.taskId);
    await setMaxAttempts(db(), home.taskId, 10);
  }, 60_000);
  afterAll(async () => {
    await stack?.close();
  });

  it('asks before the first submission: without the box ticked, a 422 beside it and nothing stored', async () => {
    const page = await student1.get(`/student/tasks/${home.taskId}`);
    expect(page.html).toContain('<label for="submission-consent">I agree that my work is assessed by an LLM (a language model) and reviewed by my instructor</label>');
    const refused = await submit('My first answer.');
    expect(refused.status).toBe(422);
    expect(refused.html).toContain('id="submission-consent-error"');
    expect(await records()).toEqual([]);
    expect(Number((await db().execute<{ n: number }>(sql`select count(*)::int as n from submissions where student_id = ${student1Id}`)).rows[0]!.n)).toBe(0);
  });

  it('records the consent with its wording\'s version when given, and does not ask again', async () => {
    const ok = await submit('My first answer.', { consent: 'on' });
    expect(ok.status).toBeLessThan(400);
    expect(await records()).toEqual([{ wording_version: 1, withdrawn: false }]);
    const page = await student1.get(`/student/tasks/${home.taskId}`);
    expect(page.html).not.toContain('id="submission-consent"');
    expect(textOf(page.html)).toMatch(/You agreed on .* that your work is assessed by an LLM\./);
    expect((await submit('My second answer.')).status).toBeLessThan(400);
    const audit = (await db().execute<{ details: Record<string, number> }>(sql`select details from audit_log where action = 'consent.given'`)).rows;
    expect(audit).toEqual([{ details: { wordingVersion: 1 } }]);
  });

  it('shows the instructor who has agreed and who has not', async () => {
    const page = await instructor.get('/instructor/consent');
    expect(page.status).toBe(200);
    const text = textOf(page.html);
    expect(text).toMatch(/1 of 2 students on the course roster without a standing consent/);
    expect(text).toMatch(/Amara Okafor agreed/);
    expect(text).toMatch(/not yet/);
  });

  it('takes the student\'s waiting work out of the queue when they withdraw, and asks again before new work', async () => {
    const queuedBefore = Number((await db().execute<{ n: number }>(sql`
      select count(*)::int as n from queue_items q join submissions s on s.id = q.submission_id where s.student_id = ${student1Id} and q.status = 'queued'`)).rows[0]!.n);
    expect(queuedBefore).toBe(2);
    const page = await student1.get('/student/my-data');
    expect(textOf(page.html)).toMatch(/History 101: Revolutions I agree that my work is assessed by an LLM .* \(version 1\) .* standing/);
    const withdrawn = await student1.post(`/student/my-data/consent/${home.courseId}/withdraw`, {}, { htmx: true });
    expect(withdrawn.status).toBe(200);
    expect(textOf(withdrawn.html)).toContain('Consent withdrawn: nothing more of yours in this course goes to an LLM unless you agree again. 2 submissions waiting in the queue will not be sent.');
    const statuses = (await db().execute<{ status: string }>(sql`select q.status from queue_items q join submissions s on s.id = q.submission_id where s.student_id = ${student1Id}`)).rows.map((r) => r.status);
    expect(statuses).toEqual(['skipped', 'skipped']);
    expect(await records()).toEqual([{ wording_version: 1, withdrawn: true }]);
    expect((await submit('A third answer.')).status).toBe(422);
    expect((await student1.post(`/student/my-data/consent/${home.courseId}/withdraw`, {}, { htmx: true })).status).toBe(404);
    expect((await submit('A third answer.', { consent: 'on' })).status).toBeLessThan(400);
    expect(await records()).toEqual([{ wording_version: 1, withdrawn: true }, { wording_version: 1, withdrawn: false }]);
  });

  it('asks again when the standing consent was to older words', async () => {
    await db().execute(sql`update consent_records set wording_version = 0 where user_id = ${student1Id} and withdrawn_at is null`);
    const page = await student1.get(`/student/tasks/${home.taskId}`);
    expect(page.html).toContain('id="submission-consent"');
    expect(textOf((await instructor.get('/instructor/consent')).html)).toContain('agreed to older words: asked again');
    expect((await submit('A fourth answer.')).status).toBe(422);
    expect((await submit('A fourth answer.', { consent: 'on' })).status).toBeLessThan(400);
    expect((await records()).slice(-2)).toEqual([{ wording_version: 0, withdrawn: true }, { wording_version: 1, withdrawn: false }]);
  });
});
