import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { sql } from 'drizzle-orm';
import { startStack, type Stack } from './helpers/stack.js';
import type { ToolSession } from './helpers/lti-browser.js';
import { activatePrompt, allowLlm, homeIds, postMultipart, setMaxAttempts, userIdOf, type Home } from './helpers/queue-fixtures.js';
import { launchWith, OTHER_COURSE } from './helpers/launches.js';
import { textOf } from './helpers/html.js';
import { silentLogger } from '../src/log.js';
import { createProviders } from '../src/providers/index.js';
import { gradeRealtimeJob } from '../src/jobs/grade-realtime.job.js';
import { runRealtimeGrading, type RealtimeWorker } from '../src/models/escalation/realtime-grading.service.js';
import { spendReport } from '../src/models/budgets/spend.service.js';
import type { JobDeps } from '../src/jobs/job.js';

type Item = { id: number; status: string; attempts: number; priority: string; last_error: string | null };
type Request = { id: number; status: string; source: string; custom_id: string; requested_by: number | null; assessment_id: number | null; error: string | null };
type Ledger = { kind: string; mode: string; amount_micros: number; queue_item_id: number | null; assessment_id: number | null };

/**
 * Issue 20, item 7: work graded now through the real-time API — a student's priority request within the course's
 * monthly limit, an instructor's "grade now", every submission of a real-time-only course — past the one spending
 * gate, ingested as a batch result is, never twice, audited and in the costs.
 */
describe('real-time escalation', () => {
  let stack: Stack;
  let admin: ToolSession;
  let instructor: ToolSession;
  let student1: ToolSession;
  let student2: ToolSession;
  let home: Home;
  let worker: RealtimeWorker;
  let jobDeps: JobDeps;
  let month: string;
  const db = () => stack.db.db;

  const settings = (changes: Record<string, string>) =>
    instructor.post('/instructor/settings', { llmAllowed: 'on', anonymize: 'on', retentionDays: '', providersShown: '1', approvedProviders: 'openai', ...changes }, { htmx: true });
  /** A new attempt of the student's through the task page's form; returns its submission id. */
  const submit = async (session: ToolSession, login: string) => {
    const studentId = await userIdOf(stack, login === 'student1' ? '5e02' : '5e03');
    const used = Number((await db().execute<{ n: number }>(sql`select count(*)::int as n from submissions where task_id = ${home.taskId} and student_id = ${studentId}`)).rows[0]!.n);
    await setMaxAttempts(db(), home.taskId, used + 1);
    const res = await postMultipart(session, `/student/tasks/${home.taskId}/submissions`, { text: `The Boston Tea Party was a protest against the Tea Act (${login} ${used + 1}).` });
    expect(res.status).toBe(201);
    return Number((await db().execute<{ id: number }>(sql`select max(id) as id from submissions where task_id = ${home.taskId} and student_id = ${studentId}`)).rows[0]!.id);
  };
  const itemOf = async (submissionId: number) =>
    (await db().execute<Item>(sql`select id, status, attempts, priority, last_error from queue_items where submission_id = ${submissionId} order by id desc limit 1`)).rows.map((r) => ({ ...r, id: Number(r.id) }))[0]!;
  const requestsOf = async (itemId: number) =>
    (await db().execute<Request>(sql`select id, status, source, custom_id, requested_by, assessment_id, error from realtime_requests where queue_item_id = ${itemId} order by id`)).rows.map((r) => ({ ...r, id: Number(r.id) }));
  const ledgerOf = async (itemId: number) =>
    (await db().execute<Ledger>(sql`select kind, mode, amount_micros::int8 as amount_micros, queue_item_id, assessment_id from cost_ledger where queue_item_id = ${itemId} order by id`)).rows.map((r) => ({ ...r, amount_micros: Number(r.amount_micros), queue_item_id: Number(r.queue_item_id), assessment_id: r.assessment_id == null ? null : Number(r.assessment_id) }));
  const assessmentsOf = async (itemId: number) =>
    (await db().execute<{ id: number; custom_id: string; review_status: string; actual_cost_micros: number }>(sql`select id, custom_id, review_status, actual_cost_micros::int8 as actual_cost_micros from assessments where queue_item_id = ${itemId}`)).rows;
  const auditsOf = async (itemId: number) =>
    (await db().execute<{ action: string; actor_id: number | null }>(sql`select action, actor_id from audit_log where entity_type = 'queue_item' and entity_id = ${String(itemId)} order by id`)).rows.map((r) => ({ action: r.action, actor_id: r.actor_id == null ? null : Number(r.actor_id) }));
  const priority = (session: ToolSession, submissionId: number, options: { csrf?: boolean } = {}) =>
    session.post(`/student/tasks/${home.taskId}/submissions/${submissionId}/priority`, {}, { htmx: true, ...options });
  const gradeNow = (submissionId: number) => instructor.post(`/instructor/tasks/${home.taskId}/grade-now`, { submissionId: String(submissionId) }, { htmx: true });
  const setBudget = async (limit: string) => expect((await admin.post('/admin/costs/budgets', { scope: `course-${home.courseId}`, month, limit }, { htmx: true })).status).toBe(200);
  const budgetId = async () => Number((await db().execute<{ id: number }>(sql`select id from budgets where course_id = ${home.courseId}`)).rows[0]!.id);
  const freeze = async (frozen: boolean) => expect((await admin.post(`/admin/costs/budgets/${await budgetId()}/freeze`, { frozen: String(frozen) }, { htmx: true })).status).toBe(200);

  /** What the JSON API (for the LMS mobile apps) says the student may do about one attempt, and how many are left. */
  const apiSays = async (student: ToolSession, submissionId: number) => {
    const mine = (await student.get('/api/my/submissions/')).json<{ submissions: Array<{ submissionId: number; canEscalate: boolean }>; priorityGrading: { left: number; limit: number } | null }>();
    return { canEscalate: mine.submissions.find((x) => x.submissionId === submissionId)!.canEscalate, priorityGrading: mine.priorityGrading };
  };

  beforeAll(async () => {
    stack = await startStack({ emulator: true });
    instructor = await stack.browser().launch(stack.devlmsUrl, 'instructor', { task: '1' });
    admin = await stack.browser().launch(stack.devlmsUrl, 'admin');
    student1 = await stack.browser().launch(stack.devlmsUrl, 'student1', { task: '1' });
    student2 = await stack.browser().launch(stack.devlmsUrl, 'student2', { task: '1' });
    home = await homeIds(stack);
    await allowLlm(db(), home.courseId, home.instructorId);
    await activatePrompt(db(), home, home.taskId);
    const providers = createProviders(stack.config, { retry: { maxAttempts: 1 } });
    worker = { db: db(), providers, encryptionKey: stack.config.encryptionKey, logger: silentLogger };
    jobDeps = { db: db(), logger: silentLogger, config: stack.config, provider: providers.get('openai'), providers };
    month = (await db().execute<{ m: string }>(sql`select to_char(now(), 'YYYY-MM') as m`)).rows[0]!.m;
  }, 60_000);
  afterAll(async () => {
    await stack?.close();
  });

  it('lets the instructor offer priority grading to students, within the platform maximum (422 beyond it, nothing saved)', async () => {
    const over = await settings({ escalation: 'students', escalationLimit: '6' });
    expect(over.status).toBe(422);
    expect(textOf(over.html)).toContain('Your institution allows at most 5 priority requests per student a month');
    expect((await db().execute<{ escalation: string }>(sql`select escalation from course_privacy where course_id = ${home.courseId}`)).rows[0]!.escalation).toBe('instructors');
    // An institution that lets no student ask: the course cannot offer it.
    const platform = (max: string) => admin.post('/admin/privacy', { allowedProviders: ['openai', 'anthropic'], maxRetentionDays: '', defaultRetentionDays: '30', defaultAnonymize: 'on', maxStudentEscalations: max }, { htmx: true });
    expect((await platform('0')).status).toBe(200);
    const none = await settings({ escalation: 'students', escalationLimit: '1' });
    expect(none.status).toBe(422);
    expect(textOf(none.html)).toContain('Your institution does not let students ask for priority grading.');
    const platformPage = await platform('5');
    expect(platformPage.status).toBe(200);
    expect(platformPage.html).toMatch(/id="max-escalations"[^>]*value="5"/);
    const saved = await settings({ escalation: 'students', escalationLimit: '1' });
    expect(saved.status).toBe(200);
    expect(textOf(saved.html)).toContain('Settings saved.');
    expect(saved.html).toMatch(/id="escalation-students"[^>]*checked/);
  });

  it("grades a student's priority request once through the real-time API, as a batch result is, audited and in the costs", async () => {
    const submissionId = await submit(student1, 'student1');
    const page = await student1.get(`/student/tasks/${home.taskId}`);
    expect(page.html).toContain('Ask for priority grading');
    expect(textOf(page.html)).toContain('You may ask for priority grading 1 more time this month (of 1)');
    expect(textOf(page.html)).toContain('costs your course twice as much');
    expect(await apiSays(student1, submissionId)).toEqual({ canEscalate: true, priorityGrading: { left: 1, limit: 1 } });

    const asked = await priority(student1, submissionId);
    expect(asked.status).toBe(202);
    expect(textOf(asked.html)).toContain('Your work is being graded now, through the real-time API. You have 0 priority requests left this month.');
    const item = await itemOf(submissionId);
    expect(item.status).toBe('processing');
    const [request] = await requestsOf(item.id);
    expect(request).toMatchObject({ status: 'pending', source: 'student', custom_id: `qi-${item.id}-r1` });

    await gradeRealtimeJob.handle(jobDeps, { requestId: request!.id });
    expect(await itemOf(submissionId)).toMatchObject({ status: 'completed', attempts: 1 });
    const assessments = await assessmentsOf(item.id);
    expect(assessments).toEqual([expect.objectContaining({ custom_id: `qi-${item.id}-r1`, review_status: 'pending_review' })]);
    const assessmentId = Number(assessments[0]!.id);
    expect(await requestsOf(item.id)).toEqual([expect.objectContaining({ status: 'succeeded', assessment_id: assessmentId })]);
    // Reserved at its worst case and charged at the real-time price, the charge naming its assessment.
    const ledger = await ledgerOf(item.id);
    expect(ledger.map((l) => [l.kind, l.mode])).toEqual([['reservation', 'realtime'], ['charge', 'realtime']]);
    expect(ledger[1]).toMatchObject({ amount_micros: Number(assessments[0]!.actual_cost_micros), assessment_id: assessmentId });
    expect(ledger[0]!.amount_micros).toBeGreaterThan(ledger[1]!.amount_micros);
    const studentId = await userIdOf(stack, '5e02');
    expect(await auditsOf(item.id)).toEqual([
      { action: 'escalation.requested', actor_id: studentId },
      { action: 'provider.realtime_called', actor_id: null },
      { action: 'escalation.graded', actor_id: null },
    ]);
    // In review like any result, and in the costs as real-time spend with its result counted.
    const review = await instructor.get('/instructor/review');
    expect(review.html).toContain(`/instructor/review/${assessmentId}`);
    const report = await spendReport(db(), home.platformId);
    expect(report.tasks).toEqual([expect.objectContaining({ taskId: home.taskId, realtimeMicros: ledger[1]!.amount_micros, results: 1 })]);
    expect(textOf((await admin.get('/admin/costs')).html)).toMatch(/Charged for real-time calls \(sample tests, gradings now\) \$0\.0\d+/);
  });

  it('never grades twice: a doubled job, or two at once, does nothing more', async () => {
    const submissionId = (await db().execute<{ id: number }>(sql`select max(s.id) as id from submissions s join queue_items q on q.submission_id = s.id where q.status = 'completed'`)).rows[0]!.id;
    const item = await itemOf(Number(submissionId));
    const [request] = await requestsOf(item.id);
    const ledgerBefore = await ledgerOf(item.id);
    expect(await runRealtimeGrading(worker, request!.id)).toBe('skipped');
    await gradeRealtimeJob.handle(jobDeps, { requestId: request!.id });
    expect(await assessmentsOf(item.id)).toHaveLength(1);
    expect(await ledgerOf(item.id)).toEqual(ledgerBefore);

    // Two workers handed the same new request at once: one claims it, the other finds nothing to do.
    await db().execute(sql`update course_privacy set escalation_limit = 5 where course_id = ${home.courseId}`);
    const second = await submit(student2, 'student2');
    expect((await priority(student2, second)).status).toBe(202);
    const other = await itemOf(second);
    const [twin] = await requestsOf(other.id);
    const outcomes = await Promise.all([runRealtimeGrading(worker, twin!.id), runRealtimeGrading(worker, twin!.id)]);
    expect(outcomes.sort()).toEqual(['graded', 'skipped']);
    expect(await assessmentsOf(other.id)).toHaveLength(1);
    expect((await ledgerOf(other.id)).filter((l) => l.kind === 'charge')).toHaveLength(1);
    await db().execute(sql`update course_privacy set escalation_limit = 1 where course_id = ${home.courseId}`);
  });

  it('refuses a request beyond the monthly limit with the reason on the page (409), changing nothing', async () => {
    const submissionId = await submit(student1, 'student1');
    const item = await itemOf(submissionId);
    const page = await student1.get(`/student/tasks/${home.taskId}`);
    expect(textOf(page.html)).toContain('You may ask for priority grading 0 more times this month (of 1)');
    expect(await apiSays(student1, submissionId)).toEqual({ canEscalate: false, priorityGrading: { left: 0, limit: 1 } });
    const refused = await priority(student1, submissionId);
    expect(refused.status).toBe(409);
    expect(textOf(refused.html)).toContain('You have used your 1 priority request for this month');
    expect(refused.html).toContain('id="student-priority-message"');
    expect(await itemOf(submissionId)).toMatchObject({ status: 'queued', priority: item.priority });
    expect(await requestsOf(item.id)).toEqual([]);
    expect(await ledgerOf(item.id)).toEqual([]);
  });

  it('refuses a request where the course does not offer it, and shows no button', async () => {
    await db().execute(sql`update course_privacy set escalation = 'instructors' where course_id = ${home.courseId}`);
    try {
      const submissionId = Number((await db().execute<{ id: number }>(sql`select q.submission_id as id from queue_items q where q.status = 'queued' order by id desc limit 1`)).rows[0]!.id);
      expect((await student1.get(`/student/tasks/${home.taskId}`)).html).not.toContain('Ask for priority grading');
      expect(await apiSays(student1, submissionId)).toEqual({ canEscalate: false, priorityGrading: null });
      const refused = await priority(student1, submissionId);
      expect(refused.status).toBe(409);
      expect(textOf(refused.html)).toContain('Priority grading is not offered in this course');
      expect((await itemOf(submissionId)).status).toBe('queued');
    } finally {
      await db().execute(sql`update course_privacy set escalation = 'students' where course_id = ${home.courseId}`);
    }
  });

  it('refuses, without its token (403) or from another course (404), changing nothing', async () => {
    const submissionId = Number((await db().execute<{ id: number }>(sql`select q.submission_id as id from queue_items q where q.status = 'queued' order by id desc limit 1`)).rows[0]!.id);
    await db().execute(sql`update course_privacy set escalation_limit = 5 where course_id = ${home.courseId}`);
    try {
      expect((await priority(student1, submissionId, { csrf: false })).status).toBe(403);
      // The other student of the same course, and the same student launched from another course.
      expect((await priority(student2, submissionId)).status).toBe(404);
      const elsewhere = await launchWith(stack, stack.browser(), 'student1', { task: '1' }, OTHER_COURSE);
      expect((await priority(elsewhere, submissionId)).status).toBe(404);
      const item = await itemOf(submissionId);
      expect(item.status).toBe('queued');
      expect(await requestsOf(item.id)).toEqual([]);
    } finally {
      await db().execute(sql`update course_privacy set escalation_limit = 1 where course_id = ${home.courseId}`);
    }
  });

  it("grades an instructor's \"grade now\" through the real-time API, audited under their name", async () => {
    const submissionId = Number((await db().execute<{ id: number }>(sql`select q.submission_id as id from queue_items q where q.status = 'queued' order by id desc limit 1`)).rows[0]!.id);
    const task = await instructor.get(`/instructor/tasks/${home.taskId}`);
    expect(task.html).toContain(`name="submissionId" value="${submissionId}"`);
    const res = await gradeNow(submissionId);
    expect(res.status).toBe(200);
    expect(textOf(res.html)).toContain('The work is being graded now through the real-time API, at twice the batch price');
    const item = await itemOf(submissionId);
    const [request] = await requestsOf(item.id);
    expect(request).toMatchObject({ source: 'instructor', requested_by: home.instructorId, status: 'pending' });
    await gradeRealtimeJob.handle(jobDeps, { requestId: request!.id });
    expect((await itemOf(submissionId)).status).toBe('completed');
    expect(await assessmentsOf(item.id)).toHaveLength(1);
    expect((await auditsOf(item.id))[0]).toEqual({ action: 'escalation.requested', actor_id: home.instructorId });
    // Graded already: a second "grade now" is refused with why.
    const again = await gradeNow(submissionId);
    expect(again.status).toBe(409);
    expect(textOf(again.html)).toContain('This work is graded already.');
  });

  it('refuses "grade now" under a frozen or spent budget: a clear error, nothing charged, the item stays queued', async () => {
    const submissionId = await submit(student2, 'student2');
    const item = await itemOf(submissionId);
    await setBudget('50');
    await freeze(true);
    const frozen = await gradeNow(submissionId);
    expect(frozen.status).toBe(409);
    expect(textOf(frozen.html)).toMatch(/budget of course ".*" for this month is frozen/);
    await freeze(false);
    await db().execute(sql`update budgets set limit_micros = 1 where course_id = ${home.courseId}`);
    const spent = await gradeNow(submissionId);
    expect(spent.status).toBe(409);
    expect(textOf(spent.html)).toContain('Nothing was changed: the work keeps its place in the queue.');
    expect(await itemOf(submissionId)).toMatchObject({ status: 'queued' });
    expect(await requestsOf(item.id)).toEqual([]);
    expect(await ledgerOf(item.id)).toEqual([]);
    await setBudget('50');
  });

  it('sends nothing when the budget is frozen after the request was taken: the worker gives the item back to the queue, first in line', async () => {
    const submissionId = Number((await db().execute<{ id: number }>(sql`select q.submission_id as id from queue_items q where q.status = 'queued' order by id desc limit 1`)).rows[0]!.id);
    expect((await gradeNow(submissionId)).status).toBe(200);
    const item = await itemOf(submissionId);
    const [request] = await requestsOf(item.id);
    await freeze(true);
    // A call would consume this fault: it is still there after, so nothing was sent.
    stack.emulator!.setFaults({ chatFailures: { count: 1, status: 500 } });
    try {
      expect(await runRealtimeGrading(worker, request!.id)).toBe('refused');
      expect(stack.emulator!.getFaults().chatFailures).not.toBeNull();
    } finally {
      stack.emulator!.reset();
      await freeze(false);
    }
    expect(await itemOf(submissionId)).toMatchObject({ status: 'queued', attempts: 0, priority: 'high' });
    expect(await requestsOf(item.id)).toEqual([expect.objectContaining({ status: 'refused', error: expect.stringMatching(/frozen/) })]);
    expect(await ledgerOf(item.id)).toEqual([]);
    expect((await auditsOf(item.id)).map((a) => a.action)).toEqual(['escalation.requested', 'escalation.refused']);
    // First in line now, and the instructor can still have it graded now.
    expect((await instructor.get(`/instructor/tasks/${home.taskId}`)).html).toContain(`name="submissionId" value="${submissionId}"`);
  });

  it('gives the item back when the call fails, one send used, its reservation released', async () => {
    const submissionId = Number((await db().execute<{ id: number }>(sql`select q.submission_id as id from queue_items q where q.status = 'queued' order by id desc limit 1`)).rows[0]!.id);
    await setMaxAttempts(db(), home.taskId, 100);
    await db().execute(sql`update queue_items set max_attempts = 3 where submission_id = ${submissionId}`);
    expect((await gradeNow(submissionId)).status).toBe(200);
    const item = await itemOf(submissionId);
    const [, request] = await requestsOf(item.id);
    expect(request!.custom_id).toBe(`qi-${item.id}-r2`);
    stack.emulator!.setFaults({ chatFailures: { count: 1, status: 500 } });
    try {
      expect(await runRealtimeGrading(worker, request!.id)).toBe('failed');
    } finally {
      stack.emulator!.reset();
    }
    expect(await itemOf(submissionId)).toMatchObject({ status: 'queued', attempts: 1 });
    expect((await ledgerOf(item.id)).map((l) => l.kind)).toEqual(['reservation', 'release']);
    expect(await assessmentsOf(item.id)).toEqual([]);
  });

  it("grades every submission of a real-time-only course on submit, and picks its waiting work up again on the recurring run", async () => {
    const saved = await settings({ realtimeOnly: 'on', escalation: 'students', escalationLimit: '1' });
    expect(saved.status).toBe(200);
    // Work that waited before the course went real-time only: the recurring run takes it.
    const waiting = Number((await db().execute<{ id: number }>(sql`select q.submission_id as id from queue_items q where q.status = 'queued' order by id desc limit 1`)).rows[0]!.id);
    await db().execute(sql`update queue_items set not_before = null where submission_id = ${waiting}`);

    const submissionId = await submit(student1, 'student1');
    const item = await itemOf(submissionId);
    expect(item.status).toBe('processing');
    const [request] = await requestsOf(item.id);
    expect(request).toMatchObject({ source: 'realtime_only', requested_by: null, status: 'pending' });
    const taskPage = textOf((await student1.get(`/student/tasks/${home.taskId}`)).html);
    expect(taskPage).toContain('Being graded now, through the real-time API');
    expect(taskPage).toContain('Your work is graded as soon as you hand it in');
    expect(textOf((await instructor.get(`/instructor/tasks/${home.taskId}`)).html)).toContain('Being graded now through the real-time API');
    // No student button: the work is graded now anyway.
    expect((await student1.get(`/student/tasks/${home.taskId}`)).html).not.toContain('Ask for priority grading');
    await gradeRealtimeJob.handle(jobDeps, { requestId: request!.id });
    expect((await itemOf(submissionId)).status).toBe('completed');
    expect(await assessmentsOf(item.id)).toHaveLength(1);

    await gradeRealtimeJob.handle(jobDeps, {});
    expect((await itemOf(waiting)).status).toBe('completed');
    const waitingItem = await itemOf(waiting);
    expect((await requestsOf(waitingItem.id)).at(-1)).toMatchObject({ source: 'realtime_only', status: 'succeeded' });
    await settings({ realtimeOnly: '', escalation: 'students', escalationLimit: '1' });
  });

  it('keeps "grade now" as first in line for the next batch where the course turned real-time grading off', async () => {
    await db().execute(sql`update course_privacy set escalation = 'off' where course_id = ${home.courseId}`);
    const submissionId = await submit(student2, 'student2');
    const res = await gradeNow(submissionId);
    expect(res.status).toBe(200);
    expect(textOf(res.html)).toContain('1 waiting item goes to the front of the queue');
    const item = await itemOf(submissionId);
    expect(item).toMatchObject({ status: 'queued', priority: 'high' });
    expect(await requestsOf(item.id)).toEqual([]);
  });
});
