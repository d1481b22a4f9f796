import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { sql } from 'drizzle-orm';
import { silentLogger } from '../src/log.js';
import { reviewsWaitingJob } from '../src/jobs/reviews-waiting.job.js';
import { startStack, type Stack } from './helpers/stack.js';
import type { ToolSession } from './helpers/lti-browser.js';
import { textOf } from './helpers/html.js';
import { createAssessment, homeIds, SUBS } from './helpers/assessments.js';

/**
 * The in-app inbox (issue 19, items 1–2, in-app part): every role has one with its unread count in the header;
 * "feedback ready" reaches the student once when their result is released; instructors get one "reviews waiting"
 * digest a day per course; nobody sees another person's notices.
 */
describe('inbox', () => {
  let stack: Stack;
  let instructor: ToolSession;
  let student1: ToolSession;
  let student2: ToolSession;
  let admin: ToolSession;
  let ids: Awaited<ReturnType<typeof homeIds>>;
  const notices = async (kind: string) => (await stack.db.db.execute<{ user_id: number | null; title: string; link: string | null }>(sql`
    select user_id, title, link from notifications where kind = ${kind} order by id`)).rows;

  beforeAll(async () => {
    stack = await startStack();
    instructor = await stack.browser().launch(stack.devlmsUrl, 'instructor', { task: '1' });
    student1 = await stack.browser().launch(stack.devlmsUrl, 'student1', { task: '1' });
    student2 = await stack.browser().launch(stack.devlmsUrl, 'student2', { task: '1' });
    await stack.browser().launch(stack.devlmsUrl, 'student3', { task: '1' });
    admin = await stack.browser().launch(stack.devlmsUrl, 'admin');
    ids = await homeIds(stack);
  }, 60_000);
  afterAll(async () => {
    await stack?.close();
  });

  it('tells the student once that their feedback is ready, with the score and a link, and counts it in the header', async () => {
    const a = await createAssessment(stack, { taskId: ids.taskId, studentSub: SUBS.student1 });
    expect(textOf((await student1.get('/student')).html)).not.toContain('unread');
    expect((await instructor.post(`/instructor/review/${a.id}/approve`, { decisionSeq: '0' }, { htmx: true })).status).toBe(200);
    // A later override of the same result does not tell them twice.
    expect((await instructor.post(`/instructor/review/${a.id}/override`, { decisionSeq: '1', score: '70', category: 'other', reason: 'Second look.' }, { htmx: true })).status).toBe(200);
    expect(await notices('feedback_ready')).toEqual([
      { user_id: expect.any(Number), title: 'Your feedback on “Essay: Causes of the French Revolution” is ready', link: `/student/submissions/${a.submissionId}/feedback` },
    ]);
    const home = await student1.get('/student');
    expect(textOf(home.html)).toContain('Inbox (1 unread)');
    const inbox = await student1.get('/inbox');
    expect(textOf(inbox.html)).toContain('Your feedback on “Essay: Causes of the French Revolution” is ready');
    expect(textOf(inbox.html)).toContain('Attempt 1: 80 / 100');
    expect(inbox.html).toContain(`/student/submissions/${a.submissionId}/feedback?ltik=`);
    // Nobody else sees it.
    expect(textOf((await student2.get('/inbox')).html)).not.toContain('Your feedback on');
    expect(textOf((await instructor.get('/inbox')).html)).not.toContain('Your feedback on');
  });

  it('marks one or all as read; another person\'s notice is "not found"', async () => {
    const [mine] = (await stack.db.db.execute<{ id: number }>(sql`select id from notifications where kind = 'feedback_ready' order by id limit 1`)).rows;
    expect((await student2.post(`/inbox/${mine!.id}/read`, {}, { htmx: true })).status).toBe(404);
    expect((await instructor.post(`/inbox/${mine!.id}/read`, {}, { htmx: true })).status).toBe(404);
    const read = await student1.post(`/inbox/${mine!.id}/read`, {}, { htmx: true });
    expect(read.status).toBe(200);
    expect(textOf(read.html)).toContain('Marked as read.');
    expect(textOf((await student1.get('/student')).html)).not.toContain('unread');
    const none = await student1.post('/inbox/read-all', {}, { htmx: true });
    expect(textOf(none.html)).toContain('Nothing was unread.');
  });

  it('sends instructors one "reviews waiting" digest a day per course, however many results wait or runs happen', async () => {
    for (const sub of [SUBS.student1, SUBS.student2, SUBS.student3]) await createAssessment(stack, { taskId: ids.taskId, studentSub: sub });
    const deps = { db: stack.db.db, logger: silentLogger, config: stack.config } as never;
    await reviewsWaitingJob.handle(deps, {});
    await reviewsWaitingJob.handle(deps, {});
    const digests = await notices('reviews_waiting');
    expect(digests).toHaveLength(1);
    expect(digests[0]!.title).toBe('3 results waiting for your review in History 101: Revolutions');
    expect(textOf((await instructor.get('/inbox')).html)).toContain('3 results waiting for your review');
    // Students and administrators do not get it.
    expect(textOf((await student1.get('/inbox')).html)).not.toContain('waiting for your review');
    expect(textOf((await admin.get('/inbox')).html)).not.toContain('waiting for your review');
  });
});
