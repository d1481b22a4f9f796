import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { sql } from 'drizzle-orm';
import { startStack, type Stack } from './helpers/stack.js';
import type { ToolSession } from './helpers/lti-browser.js';
import { expectToContainAll } from './helpers/expect-text.js';
import { textOf } from './helpers/html.js';
import { activatePrompt, allowLlm, homeIds, postMultipart, setMaxAttempts, type Home } from './helpers/queue-fixtures.js';

/** A student submits work from the task page (text or a plain-text file), and follows its status live. */
describe('student submissions', () => {
  let stack: Stack;
  let student: ToolSession;
  let student2: ToolSession;
  let home: Home;
  const counts = async () => {
    const r = await stack.db.db.execute<{ s: number; q: number }>(sql`select (select count(*)::int from submissions) as s, (select count(*)::int from queue_items) as q`);
    return r.rows[0]!;
  };

  beforeAll(async () => {
    stack = await startStack({ env: { SUBMISSION_MAX_FILE_BYTES: '2000', SUBMISSION_MAX_DOCUMENT_BYTES: '3000', SUBMISSION_MAX_CHARS: '5000' } });
    await stack.browser().launch(stack.devlmsUrl, 'instructor', { task: '1' });
    student = await stack.browser().launch(stack.devlmsUrl, 'student1', { task: '1' });
    student2 = await stack.browser().launch(stack.devlmsUrl, 'student2', { task: '1' });
    home = await homeIds(stack);
  }, 60_000);
  afterAll(async () => {
    await stack?.close();
  });

  const path = () => `/student/tasks/${home.taskId}/submissions`;

  it('are taken for grading by hand while the course has not allowed LLM assessment (the form says so; test/manual-grading.test.ts submits)', async () => {
    const page = await student.get(`/student/tasks/${home.taskId}`);
    expect(page.html).toContain('id="student-submit"');
    expect(textOf(page.html)).toContain('Your instructor grades this work by hand (LLM assessment is off in this course).');
    expect(await counts()).toEqual({ s: 0, q: 0 });
  });

  it('are refused while the task has no active prompt (409)', async () => {
    await allowLlm(stack.db.db, home.courseId, home.instructorId);
    const res = await postMultipart(student, path(), { text: 'My answer' });
    expect(res.status).toBe(409);
    expect(res.html).toContain('no grading prompt yet');
    expect(await counts()).toEqual({ s: 0, q: 0 });
  });

  it('show the form with the limits stated once the task is open', async () => {
    await activatePrompt(stack.db.db, home, home.taskId);
    const page = await student.get(`/student/tasks/${home.taskId}`);
    expect(page.status).toBe(200);
    expectToContainAll(page.html, ['id="student-submit"', 'up to 5,000 characters', 'up to 2 KB', '<label for="submission-text">', 'Attempt 1 of 1']);
  });

  it('refuse empty work (422, message beside the field, nothing stored)', async () => {
    const res = await postMultipart(student, path(), { text: '   \n ' });
    expect(res.status).toBe(422);
    expect(res.html).toContain('Write your answer, or upload a file.');
    expect(res.html).toMatch(/id="submission-text"[^>]*aria-invalid="true"/);
    expect(await counts()).toEqual({ s: 0, q: 0 });
  });

  it('refuse text over the character limit (422) and keep what was typed', async () => {
    const res = await postMultipart(student, path(), { text: 'x'.repeat(5001) });
    expect(res.status).toBe(422);
    expect(res.html).toContain('the limit is 5,000');
    expect(res.html).toContain('x'.repeat(100));
    expect(await counts()).toEqual({ s: 0, q: 0 });
  });

  it('refuse a file over the size limit (413, or 422 over the limit of its kind), a broken PDF and a file together with text (422)', async () => {
    // Over the larger limit (PDF and Word files): cut off while it is read.
    const big = await postMultipart(student, path(), {}, { name: 'essay.txt', type: 'text/plain', bytes: 'a'.repeat(3500) });
    expect(big.status).toBe(413);
    expect(big.html).toContain('larger than 3 KB');
    expect(big.html).toMatch(/id="submission-file"[^>]*aria-invalid="true"/);
    // Within it, but over the limit of text files.
    const text = await postMultipart(student, path(), {}, { name: 'essay.txt', type: 'text/plain', bytes: 'a'.repeat(2500) });
    expect(text.status).toBe(422);
    expect(text.html).toContain('essay.txt is 2.5 KB; text and source-code files may be at most 2 KB.');
    const pdf = await postMultipart(student, path(), {}, { name: 'essay.pdf', type: 'application/pdf', bytes: Buffer.from('%PDF-1.7 binary') });
    expect(pdf.status).toBe(422);
    expect(pdf.html).toContain('essay.pdf could not be read as a PDF');
    const both = await postMultipart(student, path(), { text: 'typed' }, { name: 'essay.txt', type: 'text/plain', bytes: 'from file' });
    expect(both.status).toBe(422);
    expect(both.html).toContain('not both');
    expect(await counts()).toEqual({ s: 0, q: 0 });
  });

  it('refuse a file sent under another field name (400), shown in the form', async () => {
    const form = new FormData();
    form.append('text', '');
    form.append('attachment', new Blob(['hello']), 'a.txt');
    const url = new URL(path(), student.toolOrigin).href;
    const res = await fetch(url, { method: 'POST', body: form, headers: { authorization: `Bearer ${student.ltik}`, 'x-csrf-token': student.csrf, cookie: student.browser.jar.header(url), 'hx-request': 'true' } });
    expect(res.status).toBe(400);
    expect(await res.text()).toContain('Upload one file only, in the file field.');
    expect(await counts()).toEqual({ s: 0, q: 0 });
  });

  it('ask for consent when the course requires it (422 beside the checkbox until given)', async () => {
    await stack.db.db.execute(sql`update course_privacy set consent_required = true where course_id = ${home.courseId}`);
    try {
      const page = await student.get(`/student/tasks/${home.taskId}`);
      expect(page.html).toContain('<label for="submission-consent">');
      const res = await postMultipart(student, path(), { text: 'An answer' });
      expect(res.status).toBe(422);
      expect(res.html).toContain('Please agree to your work being assessed by an LLM');
      expect(res.html).toMatch(/id="submission-consent"[^>]*aria-invalid="true"/);
      expect(await counts()).toEqual({ s: 0, q: 0 });
    } finally {
      await stack.db.db.execute(sql`update course_privacy set consent_required = false where course_id = ${home.courseId}`);
    }
  });

  it('refuse a form post without its security token (403), storing nothing', async () => {
    const url = new URL(path(), student.toolOrigin).href;
    const form = new FormData();
    form.append('text', 'sneaky');
    const res = await fetch(url, { method: 'POST', body: form, headers: { authorization: `Bearer ${student.ltik}`, cookie: student.browser.jar.header(url) } });
    expect(res.status).toBe(403);
    expect(await counts()).toEqual({ s: 0, q: 0 });
  });

  it('take typed text: a submission and a queue item with the prompt version, tokens and cost; then the attempt is used', async () => {
    const res = await postMultipart(student, path(), { text: 'The Boston Tea Party protested taxation without representation.', format: 'markdown' });
    expect(res.status).toBe(201);
    expect(res.html).toContain('Your work was submitted.');
    expect(res.html).not.toContain('<html');
    expect(res.html).toContain('data-status="queued"');
    expect(res.html).toContain('position 1 in the queue');
    expect(res.html).toMatch(/graded in about \d+ (hours|days)/);
    expect(res.html).toContain('hx-trigger="every 10s"');
    const rows = await stack.db.db.execute<{ priority: string; status: string; est_input_tokens: number; est_cost_micros: number; prompt_version_id: number; content_format: string }>(sql`
      select q.priority, q.status, q.est_input_tokens, q.est_cost_micros, q.prompt_version_id, s.content_format from queue_items q join submissions s on s.id = q.submission_id`);
    expect(rows.rows).toHaveLength(1);
    expect(rows.rows[0]).toMatchObject({ priority: 'normal', status: 'queued', content_format: 'markdown' });
    expect(rows.rows[0]!.est_input_tokens).toBeGreaterThan(50);
    expect(Number(rows.rows[0]!.est_cost_micros)).toBeGreaterThan(0);
    expect(Number(rows.rows[0]!.prompt_version_id)).toBeGreaterThan(0);

    // One attempt: the form is gone and a second post is refused.
    expect(res.html).toContain('it allows one attempt');
    const again = await postMultipart(student, path(), { text: 'Second try' });
    expect(again.status).toBe(409);
    expect(again.html).toContain('already submitted this task');
    expect(await counts()).toEqual({ s: 1, q: 1 });
  });

  it('take a plain-text file, as many attempts as the task allows', async () => {
    await setMaxAttempts(stack.db.db, home.taskId, 2);
    const res = await postMultipart(student2, path(), {}, { name: 'answer.md', type: 'text/markdown', bytes: '# My answer\n\nColonists dumped tea into Boston harbour.' });
    expect(res.status).toBe(201);
    expect(res.html).toContain('Attempt 2 of 2');
    // Behind student1's item in the queue.
    expect(res.html).toContain('position 2 in the queue');
    const second = await postMultipart(student2, path(), { text: 'A second attempt.' });
    expect(second.status).toBe(201);
    expect(second.html).toContain('You have used all 2 attempts');
    const rows = await stack.db.db.execute<{ attempt: number; original_filename: string | null; content_format: string }>(sql`
      select s.attempt, s.original_filename, s.content_format from submissions s join users u on u.id = s.student_id where u.sub like '%5e03' order by s.attempt`);
    expect(rows.rows).toEqual([
      { attempt: 1, original_filename: 'answer.md', content_format: 'markdown' },
      { attempt: 2, original_filename: null, content_format: 'text' },
    ]);
  });

  it('work as a plain form post too, the token in its hidden field (303 back to the task page)', async () => {
    await setMaxAttempts(stack.db.db, home.taskId, 3);
    const res = await postMultipart(student2, path(), { _csrf: student2.csrf, text: 'Third attempt without htmx.' }, undefined, { htmx: false, csrfHeader: false });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toMatch(new RegExp(`^/student/tasks/${home.taskId}\\?ltik=`));
  });

  it('show each state in the status fragment, stop polling when all are final, and link released feedback', async () => {
    const [item] = (await stack.db.db.execute<{ id: number; submission_id: number }>(sql`
      select q.id, q.submission_id from queue_items q join submissions s on s.id = q.submission_id join users u on u.id = s.student_id where u.sub like '%5e02'`)).rows;
    const fragment = () => student.get(`/student/tasks/${home.taskId}/submissions`, { htmx: true });
    await stack.db.db.execute(sql`update queue_items set status = 'selected' where id = ${item!.id}`);
    let f = await fragment();
    expect(f.status).toBe(200);
    expect(f.html).toMatch(/^<section id="student-submissions"/);
    expect(f.html).toContain('data-status="in_batch"');
    await stack.db.db.execute(sql`update queue_items set status = 'processing' where id = ${item!.id}`);
    expect((await fragment()).html).toContain('data-status="processing"');
    await stack.db.db.execute(sql`update queue_items set status = 'failed', attempts = max_attempts where id = ${item!.id}`);
    f = await fragment();
    expect(f.html).toContain('data-status="failed"');
    expect(f.html).not.toContain('hx-trigger');
    await stack.db.db.execute(sql`update queue_items set status = 'completed' where id = ${item!.id}`);
    f = await fragment();
    expect(f.html).toContain('data-status="completed"');
    expect(f.html).toContain('reviews the feedback before you see it');
    expect(f.html).not.toContain('/feedback');
    await stack.db.db.execute(sql`
      insert into assessments (platform_id, course_id, task_id, submission_id, queue_item_id, custom_id, prompt_version_id, model, max_score, review_status)
      select q.platform_id, q.course_id, q.task_id, q.submission_id, q.id, 'test-' || q.id, q.prompt_version_id, q.model, 10, 'approved' from queue_items q where q.id = ${item!.id}`);
    f = await fragment();
    expect(f.html).toContain(`/student/submissions/${item!.submission_id}/feedback`);
    // Another student's fragment never shows it.
    const other = await student2.get(`/student/tasks/${home.taskId}/submissions`, { htmx: true });
    expect(other.html).not.toContain(`submission-${item!.submission_id}"`);
  });

  it('answer 404 for a task of another course or an unknown one, storing nothing', async () => {
    const before = await counts();
    const res = await postMultipart(student, `/student/tasks/999999/submissions`, { text: 'x' });
    expect(res.status).toBe(404);
    expect(await counts()).toEqual(before);
  });
});
