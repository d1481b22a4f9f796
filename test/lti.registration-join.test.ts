import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { sql } from 'drizzle-orm';
import { silentLogger } from '../src/log.js';
import { AgsClient } from '../src/lti/ags.client.js';
import { gradeSyncJob } from '../src/jobs/grade-sync.job.js';
import { createRegistrationInvite } from '../src/lti/dynamic-registration.js';
import { startStack, type Stack } from './helpers/stack.js';
import type { ToolSession } from './helpers/lti-browser.js';
import { textOf } from './helpers/html.js';
import { addActivityByDeepLinking, registerByDynamicRegistration } from './helpers/launches.js';
import { createAssessment, lmsScores, SUBS } from './helpers/assessments.js';
import { activatePrompt, allowLlm, homeIds, postMultipart, type Home } from './helpers/queue-fixtures.js';

/**
 * Issue 15, item 7: a Moodle registered by hand and then registered again by dynamic registration. The second
 * client becomes part of the first platform when its administrator says so — the same courses (LLM switch kept),
 * people, queue and budgets — and grades of the activities added through it go back through it (Moodle lets only
 * the registration that made a column write to it; the dev LMS does the same).
 */
describe('a second registration of an LMS already registered (issue 15, item 7)', () => {
  let stack: Stack;
  let admin: ToolSession;
  let instructor: ToolSession;
  let home: Home;
  let clientId: string;
  const one = async <T>(query: ReturnType<typeof sql>) => (await stack.db.db.execute<T & Record<string, unknown>>(query)).rows[0]!;
  const count = async (query: ReturnType<typeof sql>) => Number((await one<{ n: number }>(query)).n);

  beforeAll(async () => {
    stack = await startStack();
    admin = await stack.browser().launch(stack.devlmsUrl, 'admin');
    instructor = await stack.browser().launch(stack.devlmsUrl, 'instructor', { task: '1' });
    home = await homeIds(stack);
    await allowLlm(stack.db.db, home.courseId, home.instructorId);
  }, 60_000);
  afterAll(async () => {
    await stack?.close();
  });

  it('asks the administrator what the new registration becomes: no choice is a 422 beside the choice, and no link', async () => {
    const before = await count(sql`select count(*)::int as n from registration_invites`);
    const res = await admin.post('/admin/registration-invites', { note: 'undecided' }, { htmx: true });
    expect(res.status).toBe(422);
    expect(res.html).toContain('Choose what the new registration becomes.');
    expect(res.html).toMatch(/<fieldset aria-invalid="true" aria-describedby="invite-becomes-error">/);
    expect(res.html).not.toContain('/lti/dynamic-registration/');
    const page = await admin.get('/admin/platforms');
    expect(page.html).toMatch(/<input type="radio" id="becomes-client" name="becomes" value="client" required><label for="becomes-client">/);
    expect(await count(sql`select count(*)::int as n from registration_invites`)).toBe(before);
  });

  it('joins the new client to the platform: its launches open the same course, with its LLM switch still on, and the same people', async () => {
    const coursesBefore = await count(sql`select count(*)::int as n from courses`);
    const registered = await registerByDynamicRegistration(stack, admin, 'Moodle, registered again', 'client');
    clientId = registered.clientId;
    expect(textOf(registered.completePage)).toContain('registered as another client of');
    const row = await one<{ id: number; joined_platform_id: number; courses_of: string }>(sql`
      select p.id, p.joined_platform_id, d.courses_of from lti_platforms p join lti_deployments d on d.platform_id = p.id where p.client_id = ${clientId}`);
    expect(Number(row.joined_platform_id)).toBe(home.platformId);

    await addActivityByDeepLinking(stack, stack.browser(), { title: 'Joined essay', client: clientId });
    const task = await one<{ id: number; course_id: number; registration_id: number }>(sql`select id, course_id, registration_id from tasks where title = 'Joined essay'`);
    expect(Number(task.course_id)).toBe(home.courseId);
    expect(Number(task.registration_id)).toBe(Number(row.id));
    expect(await count(sql`select count(*)::int as n from courses`)).toBe(coursesBefore);

    const again = await stack.browser().launch(stack.devlmsUrl, 'instructor', { task: '1', client: clientId });
    const settings = await again.get('/instructor/settings');
    expect(settings.html).toMatch(/id="llm-allowed" name="llmAllowed" value="on" checked/);
    expect(await count(sql`select count(*)::int as n from users where sub = ${SUBS.instructor}`)).toBe(1);
    // The roster service this launch named is read with its client's token.
    const roster = await one<{ roster_registration_id: number }>(sql`select roster_registration_id from courses where id = ${home.courseId}`);
    expect(Number(roster.roster_registration_id)).toBe(Number(row.id));
  });

  it('puts a submission made through the new client in the platform\'s one queue, seen by its administrator', async () => {
    const taskId = Number((await one<{ id: number }>(sql`select id from tasks where title = 'Joined essay'`)).id);
    await activatePrompt(stack.db.db, home, taskId);
    const student = await stack.browser().launch(stack.devlmsUrl, 'student1', { task: '1', client: clientId });
    const res = await postMultipart(student, `/student/tasks/${taskId}/submissions`, { text: 'The Estates-General met in 1789.' });
    expect(res.status).toBeLessThan(400);
    const item = await one<{ platform_id: number }>(sql`select q.platform_id from queue_items q join submissions s on s.id = q.submission_id where s.task_id = ${taskId}`);
    expect(Number(item.platform_id)).toBe(home.platformId);
    const queue = await admin.get('/admin/queue');
    expect(textOf(queue.html)).toContain('Joined essay');
  });

  it('sends the grades of an activity added through the new client back through that client', async () => {
    const taskId = Number((await one<{ id: number }>(sql`select id from tasks where title = 'Joined essay'`)).id);
    await stack.browser().launch(stack.devlmsUrl, 'student2', { task: '1', client: clientId });
    const a = await createAssessment(stack, { taskId, studentSub: SUBS.student2 });
    const approved = await instructor.post(`/instructor/review/${a.id}/approve`, { decisionSeq: '0' }, { htmx: true });
    expect(approved.status).toBe(200);
    await gradeSyncJob.handle({ db: stack.db.db, logger: silentLogger, config: stack.config, ags: new AgsClient(stack.tool.lti.lti, { timeoutMs: 2000 }) }, {});
    const synced = await one<{ grade_sync_status: string; grade_sync_error: string | null }>(sql`select grade_sync_status, grade_sync_error from assessments where id = ${a.id}`);
    expect(synced).toEqual({ grade_sync_status: 'synced', grade_sync_error: null });
    expect((await lmsScores(stack)).filter((s) => s.login === 'student2' && s.lineItemLabel === 'Joined essay')).toHaveLength(1);
  });

  it('lists the joined client on the platform\'s registration page', async () => {
    const page = await admin.get('/admin/platforms');
    const text = textOf(page.html);
    expect(text).toContain('Other registrations of this LMS');
    expect(text).toContain(clientId);
  });

  it('refuses a link that would register the same LMS again without the decision, and says how to join', async () => {
    const invite = await createRegistrationInvite(stack.db.db, stack.toolUrl, { createdBy: 'cli (test)', createdByPlatformId: null, issuer: null, joinPlatformId: null });
    const before = await count(sql`select count(*)::int as n from lti_platforms`);
    const browser = stack.browser();
    const start = await browser.request(`${stack.devlmsUrl}/dynamic-registration`, { form: { registration_url: invite.url } });
    const frameSrc = start.html.match(/<iframe[^>]*src="([^"]+)"/)![1]!.replace(/&amp;/g, '&');
    const refused = await browser.request(frameSrc);
    expect(refused.status).toBe(409);
    expect(textOf(refused.html)).toContain('is already registered as');
    expect(textOf(refused.html)).toContain('npm run lti -- invite --join');
    expect(await count(sql`select count(*)::int as n from lti_platforms`)).toBe(before);
  });

  it('ends the joined client\'s sessions when its platform is deactivated', async () => {
    const student = await stack.browser().launch(stack.devlmsUrl, 'student3', { task: '1', client: clientId });
    await stack.db.db.execute(sql`update lti_platforms set active = false where id = ${home.platformId}`);
    stack.tool.tool!.platforms.invalidate();
    try {
      const res = await student.get('/student');
      expect(res.status).toBe(401);
      expect(textOf(res.html)).toContain('This LMS registration is not active.');
    } finally {
      await stack.db.db.execute(sql`update lti_platforms set active = true where id = ${home.platformId}`);
      stack.tool.tool!.platforms.invalidate();
    }
  });
});
