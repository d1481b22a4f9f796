import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { sql } from 'drizzle-orm';
import { silentLogger } from '../src/log.js';
import { AgsClient } from '../src/lti/ags.client.js';
import { gradeSyncJob } from '../src/jobs/grade-sync.job.js';
import { ALL_JOBS } from '../src/jobs/runner.js';
import { enqueueSoon } from '../src/job-queue.js';
import type { JobDeps } from '../src/jobs/job.js';
import { startStack, type Stack } from './helpers/stack.js';
import type { ToolSession } from './helpers/lti-browser.js';
import { textOf } from './helpers/html.js';
import { addActivityByDeepLinking } from './helpers/launches.js';
import { createAssessment, homeIds, lmsScores, SUBS } from './helpers/assessments.js';

/** Grade passback as the worker does it, against the dev LMS's AGS over real HTTP, with its fault injection. */
describe('grade sync (AGS passback)', () => {
  let stack: Stack;
  let instructor: ToolSession;
  let ids: Awaited<ReturnType<typeof homeIds>>;
  let deps: JobDeps;
  let agsClient: AgsClient;
  const runJob = () => gradeSyncJob.handle(deps, {});
  const row = async (id: number) =>
    (await stack.db.db.execute<{ grade_sync_status: string; grade_sync_attempts: number; grade_sync_error: string | null; grade_synced_seq: number | null; grade_synced_score: number | null; reviewed_at: Date; decision_seq: number }>(sql`
      select grade_sync_status, grade_sync_attempts, grade_sync_error, grade_synced_seq, grade_synced_score, reviewed_at, decision_seq from assessments where id = ${id}`)).rows[0]!;
  const scoresOf = async (login: string, lineItemLabel = 'Essay: Causes of the French Revolution') => (await lmsScores(stack)).filter((s) => s.login === login && s.lineItemLabel === lineItemLabel);
  const approve = async (id: number) => expect((await instructor.post(`/instructor/review/${id}/approve`, { decisionSeq: '0' }, { htmx: true })).status).toBe(200);

  beforeAll(async () => {
    stack = await startStack({ env: { GRADE_SYNC_BACKOFF_MS: '0', GRADE_SYNC_MAX_ATTEMPTS: '4' } });
    instructor = await stack.browser().launch(stack.devlmsUrl, 'instructor', { task: '1' });
    for (const s of ['student1', 'student2', 'student3']) await stack.browser().launch(stack.devlmsUrl, s, { task: '1' });
    ids = await homeIds(stack);
    agsClient = new AgsClient(stack.tool.lti.lti, { timeoutMs: 2000 });
    deps = { db: stack.db.db, logger: silentLogger, config: stack.config, ags: agsClient };
  }, 60_000);
  afterAll(async () => {
    stack?.devlms.devlms.setFaults({});
    await stack?.close();
  });

  it('posts an approved grade: score, maximum, Completed / FullyGraded, a comment, the decision time; then shows it synced', async () => {
    const a = await createAssessment(stack, { taskId: ids.taskId, studentSub: SUBS.student1 });
    await approve(a.id);
    expect(await scoresOf('student1')).toHaveLength(0); // nothing is sent by the web request itself
    await runJob();
    const posted = await scoresOf('student1');
    expect(posted).toHaveLength(1);
    const decided = await row(a.id);
    expect(posted[0]).toMatchObject({ scoreGiven: 80, scoreMaximum: 100, activityProgress: 'Completed', gradingProgress: 'FullyGraded', comment: 'Assessed with AI, reviewed by your instructor.' });
    expect(new Date(posted[0]!.timestamp).getTime()).toBe(new Date(decided.reviewed_at).getTime());
    expect(decided).toMatchObject({ grade_sync_status: 'synced', grade_synced_seq: 1, grade_synced_score: 80, grade_sync_error: null });
    const page = await instructor.get(`/instructor/review/${a.id}`);
    expect(textOf(page.html)).toContain('LMS gradebook: In the LMS gradebook (80 / 100');
    await runJob();
    expect(await scoresOf('student1')).toHaveLength(1);

    // A later override re-syncs, once, with the new decision's time.
    const override = await instructor.post(`/instructor/review/${a.id}/override`, { decisionSeq: '1', score: '62.5', category: 'other', reason: 'Weaker evidence.' }, { htmx: true });
    expect(override.status).toBe(200);
    expect((await row(a.id)).grade_sync_status).toBe('pending');
    await runJob();
    await runJob();
    const after = await scoresOf('student1');
    expect(after).toHaveLength(2);
    expect(after[1]).toMatchObject({ scoreGiven: 62.5, comment: 'Graded by your instructor (AI-assisted feedback in llm-assess).' });
    expect(await row(a.id)).toMatchObject({ grade_sync_status: 'synced', grade_synced_seq: 2, grade_synced_score: 62.5 });
    const gradebook = await (await fetch(`${stack.devlmsUrl}/gradebook`)).text();
    expect(gradebook).toContain('62.5 / 100');
  });

  it('survives the LMS answering 500 for a while: retried with the reason visible, then synced, never posted twice', async () => {
    const a = await createAssessment(stack, { taskId: ids.taskId, studentSub: SUBS.student2 });
    await approve(a.id);
    stack.devlms.devlms.setFaults({ ags: { failNext: 3, status: 500 } });
    for (let attempt = 1; attempt <= 3; attempt++) {
      await runJob();
      expect(await row(a.id)).toMatchObject({ grade_sync_status: 'pending', grade_sync_attempts: attempt });
      expect((await row(a.id)).grade_sync_error).toMatch(/answered HTTP 500/);
    }
    const page = await instructor.get(`/instructor/review/${a.id}`);
    expect(textOf(page.html)).toMatch(/Last attempt \(3 so far\): The gradebook service answered HTTP 500/);
    expect(await scoresOf('student2')).toHaveLength(0);
    await runJob();
    expect(await row(a.id)).toMatchObject({ grade_sync_status: 'synced', grade_sync_error: null });
    await runJob();
    expect(await scoresOf('student2')).toHaveLength(1);
  });

  it('gives up after the last try with the reason; "retry sync" then delivers it', async () => {
    const a = await createAssessment(stack, { taskId: ids.taskId, studentSub: SUBS.student3 });
    await approve(a.id);
    stack.devlms.devlms.setFaults({ ags: { failNext: 10, status: 503 } });
    for (let i = 0; i < 5; i++) await runJob();
    expect(await row(a.id)).toMatchObject({ grade_sync_status: 'failed', grade_sync_attempts: 4 });
    const failed = await instructor.get(`/instructor/review/${a.id}`);
    expect(textOf(failed.html)).toContain('Could not be sent to the LMS gradebook');
    expect(failed.html).toContain('Retry sync');
    const audit = await stack.db.db.execute<{ n: number }>(sql`select count(*)::int as n from audit_log where action = 'grade.sync_failed' and entity_id = ${String(a.id)}`);
    expect(audit.rows[0]!.n).toBe(1);
    stack.devlms.devlms.setFaults({});
    const retry = await instructor.post(`/instructor/review/${a.id}/retry-sync`, {}, { htmx: true });
    expect(retry.status).toBe(200);
    await runJob();
    expect(await row(a.id)).toMatchObject({ grade_sync_status: 'synced' });
    expect(await scoresOf('student3')).toHaveLength(1);
  });

  it('does not retry what can never work (an LMS refusing the user), and says why', async () => {
    const a = await createAssessment(stack, { taskId: ids.taskId, studentSub: SUBS.student3 });
    await approve(a.id);
    await stack.db.db.execute(sql`update users set sub = 'left-the-course' where sub = ${SUBS.student3}`);
    try {
      await runJob();
      expect(await row(a.id)).toMatchObject({ grade_sync_status: 'failed', grade_sync_attempts: 1 });
      expect((await row(a.id)).grade_sync_error).toMatch(/HTTP 422/);
    } finally {
      await stack.db.db.execute(sql`update users set sub = ${SUBS.student3} where sub = 'left-the-course'`);
    }
  });

  it('sends nothing for what has no grade to send, and a runner without a gradebook client does nothing', async () => {
    const undone = await createAssessment(stack, { taskId: ids.taskId, studentSub: SUBS.student2 });
    await stack.db.db.execute(sql`update assessments set grade_sync_status = 'pending', grade_sync_next_at = now() where id = ${undone.id}`);
    const noScore = await createAssessment(stack, { taskId: ids.taskId, studentSub: SUBS.student2, unusable: true });
    await stack.db.db.execute(sql`update assessments set review_status = 'approved', decision_seq = 1, reviewed_at = now(), grade_sync_status = 'pending', grade_sync_next_at = now() where id = ${noScore.id}`);
    const before = (await lmsScores(stack)).length;
    const warnings: string[] = [];
    await gradeSyncJob.handle({ db: stack.db.db, logger: { ...silentLogger, warn: (m: string) => void warnings.push(m) } }, {});
    expect(warnings).toEqual(['grade sync skipped: this runner has no gradebook client']);
    expect((await row(undone.id)).grade_sync_status).toBe('pending');
    await runJob();
    expect((await row(undone.id)).grade_sync_status).toBe('none'); // never decided: nothing to send
    expect(await row(noScore.id)).toMatchObject({ grade_sync_status: 'failed', grade_sync_error: 'This assessment has no score to send.' });
    expect((await lmsScores(stack)).length).toBe(before);
  });

  it('two workers at once post one decision once', async () => {
    const a = await createAssessment(stack, { taskId: ids.taskId, studentSub: SUBS.student1 });
    await approve(a.id);
    const before = (await scoresOf('student1')).length;
    await Promise.all([runJob(), runJob(), runJob()]);
    expect(await scoresOf('student1')).toHaveLength(before + 1);
    expect(await row(a.id)).toMatchObject({ grade_sync_status: 'synced' });
  });

  it('a task placed by deep linking and never launched: finds its column by resource id and creates none', async () => {
    await addActivityByDeepLinking(stack, stack.browser(), { title: 'Reflection on revolutions', maxScore: 20 });
    const task = (await stack.db.db.execute<{ id: number; line_item_url: string | null; line_items_url: string | null }>(sql`select id, line_item_url, line_items_url from tasks where title = 'Reflection on revolutions'`)).rows[0]!;
    expect(task.line_item_url).toBeNull();
    expect(task.line_items_url).toMatch(/\/line_items$/);
    const ags = agsClient;
    const reg = stack.devlms.devlms.toolRegistration();
    const columns = async () => (await ags.listLineItems({ issuer: reg.issuer, clientId: reg.clientId }, task.line_items_url!)).length;
    const before = await columns();
    const a = await createAssessment(stack, { taskId: Number(task.id), studentSub: SUBS.student2 });
    await approve(a.id);
    await runJob();
    expect(await row(a.id)).toMatchObject({ grade_sync_status: 'synced' });
    const posted = await scoresOf('student2', 'Reflection on revolutions');
    expect(posted).toHaveLength(1);
    expect(posted[0]).toMatchObject({ scoreGiven: 16, scoreMaximum: 20 });
    expect(await columns()).toBe(before);
    const stored = (await stack.db.db.execute<{ line_item_url: string }>(sql`select line_item_url from tasks where id = ${task.id}`)).rows[0]!;
    expect(stored.line_item_url).toBe(posted[0]!.lineItemId);
  });

  it('a decision whose immediate send cannot be queued (Agenda\'s table unreachable) still succeeds; the sweep sends it', async () => {
    const warnings: string[] = [];
    const logger = { ...silentLogger, warn: (msg: string) => void warnings.push(msg) };
    // The Agenda boundary failing as it does when its database is gone.
    const unreachable = { enqueue: () => Promise.reject(new Error('Connection terminated unexpectedly')) };
    await expect(enqueueSoon(unreachable, logger, 'sync-grades', { assessmentId: 1 })).resolves.toBeUndefined();
    expect(warnings).toEqual(['could not enqueue a job; its recurring sweep will do the work']);
    await expect(enqueueSoon(undefined, logger, 'sync-grades', {})).resolves.toBeUndefined(); // an app without a runner: nothing to do
  });

  it('is one of the worker\'s jobs, recurring, and takes an optional assessment id', () => {
    // Processing through Agenda itself is what the pipeline end-to-end test does (a worker stack); starting and
    // stopping Agenda here would cost this file ~10 s.
    expect(ALL_JOBS).toContain(gradeSyncJob);
    expect(gradeSyncJob.every).toBe('15 seconds');
    expect(gradeSyncJob.payload.parse({ assessmentId: 3 })).toEqual({ assessmentId: 3 });
    expect(() => gradeSyncJob.payload.parse({ assessmentId: 'x' })).toThrow();
  });
});
