import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { sql } from 'drizzle-orm';
import { silentLogger } from '../src/log.js';
import { createSmtpMailer } from '../src/mail/smtp-mailer.js';
import { sendEmailJob } from '../src/jobs/send-email.job.js';
import { emailDigestsJob } from '../src/jobs/email-digests.job.js';
import { reviewsWaitingJob } from '../src/jobs/reviews-waiting.job.js';
import { collectDigests, sendDueEmail, DEFAULT_SEND_SETTINGS } from '../src/models/notifications/email.service.js';
import { lmsLinksFrom } from '../src/lti/lms-links.js';
import { verifyUnsubscribeToken } from '../src/mail/unsubscribe.js';
import { startStack, type Stack } from './helpers/stack.js';
import type { ToolSession } from './helpers/lti-browser.js';
import { textOf } from './helpers/html.js';
import { createAssessment, homeIds, SUBS } from './helpers/assessments.js';
import { activatePrompt, allowLlm, postMultipart } from './helpers/queue-fixtures.js';

/**
 * The e-mail channel (issue 19, items 1–3) over a real SMTP conversation with the dev LMS's mail catcher: each
 * notice's e-mail arrives once with a working LMS link and a one-click unsubscribe; preferences and digests are
 * honoured; refusals bounce or are retried; the administrators' page shows failures, and each event's wording is
 * theirs to change, checked like a prompt template.
 */
describe('e-mail notices', () => {
  let stack: Stack;
  let instructor: ToolSession;
  let student1: ToolSession;
  let student2: ToolSession;
  let admin: ToolSession;
  let ids: Awaited<ReturnType<typeof homeIds>>;
  let mailer: ReturnType<typeof createSmtpMailer>;
  const deps = () => ({ db: stack.db.db, logger: silentLogger, config: stack.config, mailer }) as never;
  const send = () => sendEmailJob.handle(deps(), {});
  const mailTo = (address: string) => stack.mail!.messages().filter((m) => m.to.includes(address));
  const outbox = async (kind: string) => (await stack.db.db.execute<{ to_address: string; status: string; attempts: number; last_error: string | null }>(sql`
    select to_address, status, attempts, last_error from email_outbox where kind = ${kind} order by id`)).rows;

  beforeAll(async () => {
    stack = await startStack({ mail: true });
    instructor = await stack.browser().launch(stack.devlmsUrl, 'instructor', { task: '1' });
    student1 = await stack.browser().launch(stack.devlmsUrl, 'student1', { task: '1' });
    student2 = await stack.browser().launch(stack.devlmsUrl, 'student2', { task: '1' });
    await stack.browser().launch(stack.devlmsUrl, 'student3', { task: '1' });
    admin = await stack.browser().launch(stack.devlmsUrl, 'admin');
    ids = await homeIds(stack);
    mailer = createSmtpMailer({ smtpUrl: stack.config.mail.smtpUrl!, from: stack.config.mail.from, toolUrl: stack.toolUrl, secret: stack.config.lti.key });
  }, 60_000);
  afterAll(async () => {
    mailer?.close();
    await stack?.close();
  });

  it('a submission tells its student by e-mail once, with a link to the course in the LMS that opens', async () => {
    await allowLlm(stack.db.db, ids.courseId, ids.instructorId);
    await activatePrompt(stack.db.db, { platformId: ids.platformId, courseId: ids.courseId, instructorId: ids.instructorId }, ids.taskId);
    expect((await postMultipart(student1, `/student/tasks/${ids.taskId}/submissions`, { text: 'The Estates-General met in 1789 because the crown was bankrupt.' })).status).toBe(201);
    await send();
    await send(); // a retried or doubled run sends nothing twice
    const mail = mailTo('amara.okafor@example.edu');
    expect(mail).toHaveLength(1);
    expect(mail[0]!.subject).toBe('Your work on “Essay: Causes of the French Revolution” is in the grading queue');
    expect(mail[0]!.from).toBe('no-reply@llm-assess.test');
    expect(mail[0]!.text).toMatch(/Attempt 1 was received\. Feedback is expected in about \d+ (hours|days)/);
    const link = /Open it in your LMS: (\S+)/.exec(mail[0]!.text)![1]!;
    expect(link).toBe(`${stack.devlmsUrl}/`);
    const lms = await fetch(link);
    expect(lms.status).toBe(200);
    expect(await lms.text()).toContain('History 101');
    expect(await outbox('queued')).toEqual([{ to_address: 'amara.okafor@example.edu', status: 'sent', attempts: 1, last_error: null }]);
  });

  it('"feedback ready" reaches the inbox and the mailbox once; a student who turned that event off gets the notice only', async () => {
    const saved = await student2.post('/preferences', { frequency: 'immediately', email: 'queued' }, { htmx: true });
    expect(saved.status).toBe(200);
    expect(textOf(saved.html)).toContain('Saved.');
    const a1 = await createAssessment(stack, { taskId: ids.taskId, studentSub: SUBS.student1 });
    const a2 = await createAssessment(stack, { taskId: ids.taskId, studentSub: SUBS.student2 });
    for (const a of [a1, a2]) expect((await instructor.post(`/instructor/review/${a.id}/approve`, { decisionSeq: '0' }, { htmx: true })).status).toBe(200);
    await send();
    const ready = mailTo('amara.okafor@example.edu').filter((m) => m.subject.includes('is ready'));
    expect(ready.map((m) => m.subject)).toEqual(['Your feedback on “Essay: Causes of the French Revolution” is ready']);
    expect(ready[0]!.text).toMatch(/^Attempt 2: \d+ \/ 10\n/);
    expect(mailTo('ben.carter@example.edu')).toEqual([]);
    expect(textOf((await student2.get('/inbox')).html)).toContain('Your feedback on “Essay: Causes of the French Revolution” is ready');
  });

  it('the instructors\' daily digest of reviews waiting arrives by e-mail once', async () => {
    await createAssessment(stack, { taskId: ids.taskId, studentSub: SUBS.student3 });
    await reviewsWaitingJob.handle(deps(), {});
    await reviewsWaitingJob.handle(deps(), {});
    await send();
    const digest = mailTo('elena.park@example.edu');
    expect(digest.map((m) => m.subject)).toEqual(['1 result waiting for your review in History 101: Revolutions']);
  });

  it('a daily digest holds e-mail and sends one message listing it once a day has passed; "never" sends nothing', async () => {
    expect((await student2.post('/preferences', { frequency: 'daily', email: ['queued', 'feedback_ready'] }, { htmx: true })).status).toBe(200);
    const a = await createAssessment(stack, { taskId: ids.taskId, studentSub: SUBS.student2 });
    expect((await instructor.post(`/instructor/review/${a.id}/approve`, { decisionSeq: '0' }, { htmx: true })).status).toBe(200);
    await send();
    expect(mailTo('ben.carter@example.edu')).toEqual([]);
    expect((await outbox('feedback_ready')).filter((r) => r.to_address === 'ben.carter@example.edu').map((r) => r.status)).toEqual(['held']);
    expect(await collectDigests(stack.db.db, new Date())).toEqual({ digests: 0, released: 0, dropped: 0 });
    expect(await collectDigests(stack.db.db, new Date(Date.now() + 25 * 3_600_000))).toEqual({ digests: 1, released: 0, dropped: 0 });
    await emailDigestsJob.handle(deps(), {});
    await send();
    const digest = mailTo('ben.carter@example.edu');
    expect(digest.map((m) => m.subject)).toEqual(['llm-assess: 1 notice (daily digest)']);
    expect(digest[0]!.text).toContain('• Your feedback on “Essay: Causes of the French Revolution” is ready');
    // Never: new notices write no e-mail at all.
    expect((await student2.post('/preferences', { frequency: 'never' }, { htmx: true })).status).toBe(200);
    const b = await createAssessment(stack, { taskId: ids.taskId, studentSub: SUBS.student2 });
    expect((await instructor.post(`/instructor/review/${b.id}/approve`, { decisionSeq: '0' }, { htmx: true })).status).toBe(200);
    expect((await outbox('feedback_ready')).filter((r) => r.to_address === 'ben.carter@example.edu')).toHaveLength(1);
  });

  it('preferences refuse an event of another role and a missing frequency (422, nothing saved)', async () => {
    const before = (await stack.db.db.execute(sql`select email_off, email_frequency from notification_preferences order by user_id`)).rows;
    const wrong = await student1.post('/preferences', { frequency: 'daily', email: 'budget_alert' }, { htmx: true });
    expect(wrong.status).toBe(422);
    expect(textOf(wrong.html)).toContain('Not an event you can get: budget_alert.');
    const none = await student1.post('/preferences', { email: 'queued' }, { htmx: true });
    expect(none.status).toBe(422);
    expect(textOf(none.html)).toContain('Choose how often e-mail may come.');
    expect((await stack.db.db.execute(sql`select email_off, email_frequency from notification_preferences order by user_id`)).rows).toEqual(before);
    const page = await student1.get('/preferences');
    expect(textOf(page.html)).toContain('E-mail goes to amara.okafor@example.edu');
    expect(page.html).toContain('id="email-feedback_ready"');
    expect(page.html).not.toContain('id="email-budget_alert"');
  });

  it('every e-mail carries a one-click unsubscribe: GET asks, POST (the button, or a mail client) turns e-mail off; a forged link is not found', async () => {
    const [mail] = mailTo('amara.okafor@example.edu');
    expect(mail!.headers['list-unsubscribe-post']).toBe('List-Unsubscribe=One-Click');
    const url = /<([^>]+)>/.exec(mail!.headers['list-unsubscribe']!)![1]!;
    expect(url.startsWith(`${stack.toolUrl}/email/unsubscribe/`)).toBe(true);
    expect(mail!.text).toContain(url);
    const page = await fetch(url);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('a•••@example.edu');
    expect(html).toContain('Stop all e-mail');
    expect((await stack.db.db.execute(sql`select 1 from notification_preferences p join users u on u.id = p.user_id where u.email = 'amara.okafor@example.edu' and p.email_frequency = 'never'`)).rows).toEqual([]);
    const done = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'List-Unsubscribe=One-Click' });
    expect(done.status).toBe(200);
    expect(await done.text()).toContain('E-mail turned off');
    expect((await stack.db.db.execute(sql`select 1 from notification_preferences p join users u on u.id = p.user_id where u.email = 'amara.okafor@example.edu' and p.email_frequency = 'never' and p.unsubscribed_at is not null`)).rows).toHaveLength(1);
    const token = url.split('/').pop()!;
    expect(verifyUnsubscribeToken(stack.config.lti.key, token)).not.toBeNull();
    const [userId] = token.split('.');
    const forged = await fetch(`${stack.toolUrl}/email/unsubscribe/${Number(userId) + 1}.${token.split('.')[1]}`, { method: 'POST' });
    expect(forged.status).toBe(404);
    expect((await fetch(`${stack.toolUrl}/email/unsubscribe/nonsense`)).status).toBe(404);
    // The preferences page says how to come back.
    expect(textOf((await student1.get('/preferences')).html)).toContain('You turned off all e-mail with the link in an e-mail');
  });

  it('a permanent refusal bounces at once; a temporary one is retried later and then sent; both show on the administrators\' page', async () => {
    await stack.db.db.execute(sql`update users set email = 'nobody@invalid.example' where sub = ${SUBS.student3}`);
    stack.mail!.refuse({ refuseNext: 1, code: 550, message: 'No such user here' });
    const a = await createAssessment(stack, { taskId: ids.taskId, studentSub: SUBS.student3 });
    expect((await instructor.post(`/instructor/review/${a.id}/approve`, { decisionSeq: '0' }, { htmx: true })).status).toBe(200);
    await send();
    const bounced = (await outbox('feedback_ready')).find((r) => r.to_address === 'nobody@invalid.example')!;
    expect(bounced).toMatchObject({ status: 'bounced', attempts: 1 });
    expect(bounced.last_error).toMatch(/^550 .*No such user here/);

    stack.mail!.refuse({ refuseNext: 1, code: 451, message: 'Try again later' });
    await stack.db.db.execute(sql`update users set email = 'wei.chen@example.edu' where sub = ${SUBS.student3}`);
    const b = await createAssessment(stack, { taskId: ids.taskId, studentSub: SUBS.student3 });
    expect((await instructor.post(`/instructor/review/${b.id}/approve`, { decisionSeq: '0' }, { htmx: true })).status).toBe(200);
    await send();
    const waiting = (await stack.db.db.execute<{ status: string; attempts: number; due: boolean }>(sql`
      select status, attempts, next_attempt_at > now() as due from email_outbox where to_address = 'wei.chen@example.edu' and kind = 'feedback_ready'`)).rows;
    expect(waiting).toEqual([{ status: 'pending', attempts: 1, due: true }]);
    const page = textOf((await admin.get('/admin/notifications')).html);
    expect(page).toContain('nobody@invalid.example');
    expect(page).toContain('bounced');
    expect(page).toContain('retrying');
    await send();
    expect(mailTo('wei.chen@example.edu')).toEqual([]); // not before its time
    await stack.db.db.execute(sql`update email_outbox set next_attempt_at = now() where to_address = 'wei.chen@example.edu'`);
    await send();
    expect(mailTo('wei.chen@example.edu').map((m) => m.subject)).toEqual(['Your feedback on “Essay: Causes of the French Revolution” is ready']);
  });

  it('a temporary failure on every try leaves the e-mail failed after MAIL_MAX_ATTEMPTS; without a mail server due e-mail is skipped with the reason', async () => {
    const settings = { ...DEFAULT_SEND_SETTINGS, maxAttempts: 2, retryBaseMs: 0 };
    stack.mail!.refuse({ refuseNext: 2, code: 452, message: 'Mailbox full for now' });
    await stack.db.db.execute(sql`
      insert into email_outbox (platform_id, user_id, kind, to_address, subject, body, status)
      select platform_id, id, 'queued', 'elena.park@example.edu', 'Twice refused', 'Body', 'pending' from users where sub = ${SUBS.instructor}`);
    // No pause between tries here: one run tries, is refused, tries again and gives up.
    expect(await sendDueEmail(stack.db.db, mailer, settings)).toMatchObject({ sent: 0, retried: 1, failed: 1 });
    expect((await stack.db.db.execute(sql`select status, attempts from email_outbox where subject = 'Twice refused'`)).rows).toEqual([{ status: 'failed', attempts: 2 }]);
    await stack.db.db.execute(sql`
      insert into email_outbox (platform_id, user_id, kind, to_address, subject, body, status)
      select platform_id, id, 'queued', 'elena.park@example.edu', 'No server', 'Body', 'pending' from users where sub = ${SUBS.instructor}`);
    expect(await sendDueEmail(stack.db.db, null, settings)).toMatchObject({ skipped: 1 });
    expect((await stack.db.db.execute(sql`select status, last_error from email_outbox where subject = 'No server'`)).rows).toEqual([
      { status: 'skipped', last_error: 'E-mail is not configured on this server (SMTP_URL is not set).' },
    ]);
  });

  it('administrators reword an event for their platform: an unknown variable is refused where it is, a good wording is used, reset restores the default', async () => {
    const path = '/admin/notifications/wording';
    const bad = await admin.post(path, { kind: 'feedback_ready', subject: 'Feedback for {student_name}', body: 'Score {score}' }, { htmx: true });
    expect(bad.status).toBe(422);
    expect(textOf(bad.html)).toContain('Unknown variable {student_name} at character 14. Known variables: {course_title}, {task_title}, {attempt}, {score}, {max_score}.');
    expect(bad.html).toMatch(/id="wording-subject"[^>]*aria-invalid="true"/);
    expect(bad.html).toContain('Feedback for {student_name}');
    const unbalanced = await admin.post(path, { kind: 'feedback_ready', subject: 'Feedback', body: 'Score {score' }, { htmx: true });
    expect(unbalanced.status).toBe(422);
    expect(textOf(unbalanced.html)).toContain('Unbalanced brace');
    expect((await stack.db.db.execute(sql`select 1 from notification_templates`)).rows).toEqual([]);

    const good = await admin.post(path, { kind: 'feedback_ready', subject: '{task_title}: feedback is in', body: 'You scored {score} of {max_score}. Open {course_title} to read it.' }, { htmx: true });
    expect(good.status).toBe(200);
    expect(textOf(good.html)).toContain('Saved: new notices of this event use this wording.');
    const a = await createAssessment(stack, { taskId: ids.taskId, studentSub: SUBS.student1 });
    expect((await instructor.post(`/instructor/review/${a.id}/approve`, { decisionSeq: '0' }, { htmx: true })).status).toBe(200);
    const [notice] = (await stack.db.db.execute<{ title: string; body: string }>(sql`select title, body from notifications where kind = 'feedback_ready' order by id desc limit 1`)).rows;
    expect(notice).toEqual({ title: 'Essay: Causes of the French Revolution: feedback is in', body: 'You scored 8 of 10. Open History 101: Revolutions to read it.' });
    expect(textOf((await admin.get('/admin/notifications')).html)).toContain('Your own');

    const reset = await admin.post(`${path}/reset`, { kind: 'feedback_ready' }, { htmx: true });
    expect(textOf(reset.html)).toContain('Back to the default wording.');
    expect((await stack.db.db.execute(sql`select 1 from notification_templates`)).rows).toEqual([]);
    expect((await admin.get(`${path}?kind=no_such_event`)).status).toBe(404);
    expect((await admin.post(path, { kind: 'no_such_event', subject: 'S', body: 'B' }, { htmx: true })).status).toBe(404);
  });

  it('the administrators\' page says how many people the LMS gave an address, and says so when it gives none', async () => {
    const page = textOf((await admin.get('/admin/notifications')).html);
    expect(page).toContain('E-mail is sent from llm-assess <no-reply@llm-assess.test>');
    expect(page).toMatch(/student\s*3\s*3/);
    expect(page).not.toContain('Your LMS shares no e-mail addresses');
    await stack.db.db.execute(sql`update users set email = null`);
    expect(textOf((await admin.get('/admin/notifications')).html)).toContain('Your LMS shares no e-mail addresses with llm-assess, so notices reach people in the Inbox only.');
    expect(textOf((await student1.get('/preferences')).html)).toContain('Your LMS does not share your e-mail address with llm-assess');
  });
});

describe('links into the LMS', () => {
  it('rebuild the course and activity pages from a launch\'s return URL, never keeping its query (Moodle\'s session key)', () => {
    expect(lmsLinksFrom('https://moodle.uni.edu/lms/mod/lti/return.php?course=42&launch_container=3&instanceid=9&sesskey=s3cr3t')).toEqual({
      course: 'https://moodle.uni.edu/lms/course/view.php?id=42',
      activity: 'https://moodle.uni.edu/lms/mod/lti/view.php?l=9',
    });
    expect(lmsLinksFrom('https://uni.instructure.com/courses/1234/external_content/success/external_tool_redirect')).toEqual({ course: 'https://uni.instructure.com/courses/1234', activity: null });
    expect(lmsLinksFrom('https://d2l.uni.edu/d2l/home/55?token=abc')).toEqual({ course: 'https://d2l.uni.edu/', activity: null });
    expect(lmsLinksFrom(undefined)).toEqual({ course: null, activity: null });
    expect(lmsLinksFrom('not a url')).toEqual({ course: null, activity: null });
    expect(lmsLinksFrom('javascript:alert(1)')).toEqual({ course: null, activity: null });
  });
});
