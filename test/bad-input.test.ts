import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { sql } from 'drizzle-orm';
import { startStack, type Stack } from './helpers/stack.js';
import type { ToolSession } from './helpers/lti-browser.js';
import { textOf } from './helpers/html.js';
import { activatePrompt, allowLlm, homeIds } from './helpers/queue-fixtures.js';

/**
 * The inputs that ended in a 500 in the probe of issue 13 (NUL bytes, too many form fields, a cut-off upload,
 * a path with broken %-encoding, a form posted without htmx): each is now a clear 4xx or is taken, and the
 * database holds no NUL and no half-done change.
 */
describe('bad input at the edge', () => {
  let stack: Stack;
  let student: ToolSession;
  let instructor: ToolSession;
  let admin: ToolSession;
  let taskId: number;
  beforeAll(async () => {
    stack = await startStack();
    student = await stack.browser().launch(stack.devlmsUrl, 'student1', { task: '1' });
    instructor = await stack.browser().launch(stack.devlmsUrl, 'instructor', { task: '1' });
    admin = await stack.browser().launch(stack.devlmsUrl, 'admin');
    taskId = Number(new URL(student.home.url).pathname.split('/').pop());
  });
  afterAll(async () => {
    await stack?.close();
  });

  const deployments = async () => (await stack.db.db.execute<{ deployment_id: string }>(sql`select deployment_id from lti_deployments order by 1`)).rows.map((r) => r.deployment_id);

  it('takes text fields with NUL bytes without them, in forms, JSON and query strings', async () => {
    const added = await admin.post('/admin/platforms/deployments', { deploymentId: 'nul\u0000dep' }, { htmx: true });
    expect(added.status).toBe(200);
    expect(await deployments()).toContain('nuldep');
    const settings = await instructor.post('/instructor/settings', { anonymize: 'on', retentionDays: '3\u00000' }, { htmx: true });
    expect(settings.status).toBeLessThan(500);
    const queue = await admin.get('/admin/queue?status=queued\u0000&q=%00x');
    expect(queue.status).toBe(200);
    const api = await admin.request('/api/admin/llm-queue/?status=%00', { method: 'GET' });
    expect(api.status).toBeLessThan(500);
    const noted = await admin.request('/api/admin/llm-batches/create/', { method: 'POST', json: { notes: 'a\u0000b', itemIds: [] } });
    expect(noted.status).toBeLessThan(500);
  });

  it('stores a submission with NUL bytes typed into it, without them', async () => {
    const home = await homeIds(stack);
    await allowLlm(stack.db.db, home.courseId, home.instructorId);
    await activatePrompt(stack.db.db, home, taskId);
    const page = await student.post(`/student/tasks/${taskId}/submissions`, { text: 'The Estates\u0000-General met in May 1789.', format: 'text' }, { htmx: true });
    expect(page.status).toBe(201);
    const stored = await stack.db.db.execute<{ n: number }>(sql`select count(*)::int as n from submissions`);
    expect(stored.rows[0]!.n).toBe(1);
    const mine = await student.get(`/student/tasks/${taskId}/submissions`);
    expect(textOf(mine.html)).not.toContain('\u0000');
  });

  it('refuses more than 1,000 form fields with 413 and changes nothing', async () => {
    const before = await deployments();
    const form: Record<string, string> = { deploymentId: 'too-many' };
    for (let i = 0; i < 1_001; i++) form[`f${i}`] = 'x';
    const page = await admin.post('/admin/platforms/deployments', form, { htmx: true });
    expect(page.status).toBe(413);
    expect(textOf(page.html)).toContain('The form has too many fields.');
    expect(await deployments()).toEqual(before);
  });

  it('refuses a cut-off upload with 400 and stores nothing', async () => {
    const before = (await stack.db.db.execute<{ n: number }>(sql`select count(*)::int as n from submissions`)).rows[0]!.n;
    const boundary = '----llmassess';
    const body = `--${boundary}\r\nContent-Disposition: form-data; name="_csrf"\r\n\r\n${student.csrf}\r\n--${boundary}\r\nContent-Disposition: form-data; name="text"\r\n\r\nHalf an ess`;
    const res = await fetch(`${stack.toolUrl}/student/tasks/${taskId}/submissions`, {
      method: 'POST',
      body,
      headers: { 'content-type': `multipart/form-data; boundary=${boundary}`, authorization: `Bearer ${student.ltik}`, cookie: student.browser.jar.header(stack.toolUrl) },
    });
    expect(res.status).toBe(400);
    expect(textOf(await res.text())).toContain('The upload was cut off or could not be read');
    const after = (await stack.db.db.execute<{ n: number }>(sql`select count(*)::int as n from submissions`)).rows[0]!.n;
    expect(after).toBe(before);
  });

  it('answers a path with broken %-encoding with 400', async () => {
    const res = await student.get('/student/tasks/%E0%A4%A');
    expect(res.status).toBe(400);
    expect(textOf(res.html)).toContain('The request could not be read.');
  });

  it('answers a registration link form posted without htmx with the whole page', async () => {
    const page = await admin.post('/admin/registration-invites', { note: 'plain form', becomes: 'platform', _csrf: admin.csrf }, { csrf: false });
    expect(page.status).toBe(200);
    expect(textOf(page.html)).toContain('LMS registration');
    expect(page.html).toMatch(/<code class="copyable">[^<]+<\/code>/);
  });
});
