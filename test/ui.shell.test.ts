import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startStack, type Stack } from './helpers/stack.js';
import type { ToolSession } from './helpers/lti-browser.js';

/** The page shell every area shares (views/layout.ejs, views/pages/error.ejs): navigation state, live region, ways on. */
describe('page shell', () => {
  let stack: Stack;
  let instructor: ToolSession;
  let student: ToolSession;
  beforeAll(async () => {
    stack = await startStack();
    instructor = await stack.browser().launch(stack.devlmsUrl, 'instructor', { task: 'nav' });
    student = await stack.browser().launch(stack.devlmsUrl, 'student1', { task: '1' });
  });
  afterAll(async () => {
    await stack?.close();
  });

  const current = (html: string) => [...html.matchAll(/<a href="[^"]*" aria-current="page">([^<]+)<\/a>/g)].map((m) => m[1]);

  it('marks only the section that owns the page as current', async () => {
    expect(current((await instructor.get('/instructor/settings')).html)).toEqual(['Course settings']);
    expect(current((await instructor.get('/instructor/review')).html)).toEqual(['Review']);
    expect(current((await instructor.get('/instructor/tasks/1')).html)).toEqual(['Tasks']);
  });

  it('has a polite live region for status changes of self-refreshing parts', async () => {
    expect((await student.get('/student/tasks/1')).html).toContain('<div id="announcer" class="visually-hidden" aria-live="polite" aria-atomic="true"></div>');
  });

  it('tells the instructor on a task page when students cannot submit because LLM assessment is off', async () => {
    const off = await instructor.get('/instructor/tasks/1');
    expect(off.html).toMatch(/id="llm-off">LLM assessment is off for this course: students can still hand in work, and you grade it by hand in <a href="\/instructor\/review\?status=manual&amp;ltik=[^"]+">Review<\/a>\. Turn the LLM on in <a href="\/instructor\/settings\?ltik=[^"]+">Course settings<\/a>/);
    expect((await instructor.post('/instructor/settings', { llmAllowed: 'on', anonymize: 'on', retentionDays: '' }, { htmx: true })).status).toBe(200);
    expect((await instructor.get('/instructor/tasks/1')).html).not.toContain('id="llm-off"');
  });

  it('offers a way back to the person\'s start page on a refusal or a missing page', async () => {
    const forbidden = await student.get('/instructor');
    expect(forbidden.status).toBe(403);
    expect(forbidden.html).toMatch(/<a href="\/student\?ltik=[^"]+">Go to My tasks<\/a>/);
    const missing = await student.get('/student/submissions/999999/feedback');
    expect(missing.status).toBe(404);
    expect(missing.html).toContain('Go to My tasks</a>');
  });
});
