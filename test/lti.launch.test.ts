import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { sql } from 'drizzle-orm';
import { startStack, type Stack } from './helpers/stack.js';
import { textOf } from './helpers/html.js';

describe('LTI launch through the development LMS, over real HTTP', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack();
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('lands a student on the task they launched, with the ltik in a meta tag', async () => {
    const session = await stack.browser().launch(stack.devlmsUrl, 'student1', { task: '1' });
    expect(new URL(session.home.url).pathname).toMatch(/^\/student\/tasks\/\d+$/);
    expect(session.home.html).toMatch(/<meta name="ltik" content="[^"]+">/);
    const text = textOf(session.home.html);
    expect(text).toContain('Your submissions');
    expect(text).toContain('student');
  });

  it('lands an instructor on the course task list after a course navigation launch', async () => {
    const session = await stack.browser().launch(stack.devlmsUrl, 'instructor', { task: 'nav' });
    expect(new URL(session.home.url).pathname).toBe('/instructor');
    expect(textOf(session.home.html)).toContain('Tasks in this course');
  });

  it('lands an instructor on the task of the resource link', async () => {
    const session = await stack.browser().launch(stack.devlmsUrl, 'instructor', { task: '2' });
    expect(new URL(session.home.url).pathname).toMatch(/^\/instructor\/tasks\/\d+$/);
  });

  it('lets no cache keep a page, fragment, JSON answer or launch redirect; static files are cached', async () => {
    const browser = stack.browser();
    const form = await browser.beginLaunch(stack.devlmsUrl, 'student1', { task: '1' });
    const redirect = await browser.request(form.action, { form: form.fields, follow: false });
    expect(redirect.status).toBe(302);
    expect(redirect.headers.get('cache-control')).toBe('no-store');
    const session = await stack.browser().launch(stack.devlmsUrl, 'student1', { task: '1' });
    const answers = [session.home, await session.get('/student', { htmx: true }), await session.get('/api/session'), await session.get('/student/nothing-here')];
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 404]);
    for (const a of answers) expect(a.headers.get('cache-control')).toBe('no-store');
    const css = await fetch(`${stack.toolUrl}/public/css/app.css`);
    expect(css.headers.get('cache-control')).not.toBe('no-store');
  });

  it('lands an administrator on the admin panel', async () => {
    const session = await stack.browser().launch(stack.devlmsUrl, 'admin');
    expect(new URL(session.home.url).pathname).toBe('/admin');
    const text = textOf(session.home.html);
    expect(text).toContain('Administration');
    expect(text).toContain('Queue');
  });

  it('records the course, the people, their roles and one task per resource link', async () => {
    await stack.browser().launch(stack.devlmsUrl, 'student2', { task: '1' });
    const rows = await stack.db.db.execute<{ role: string; n: number }>(sql`select role, count(*)::int as n from memberships group by role order by role`);
    expect(rows.rows).toEqual(expect.arrayContaining([{ role: 'student', n: 2 }, { role: 'instructor', n: 1 }]));
    const tasks = await stack.db.db.execute<{ n: number }>(sql`select count(*)::int as n from tasks`);
    expect(tasks.rows[0]!.n).toBe(2);
    const lineItems = await stack.db.db.execute<{ n: number }>(sql`select count(*)::int as n from tasks where line_item_url is not null`);
    expect(lineItems.rows[0]!.n).toBe(2);
  });
});
