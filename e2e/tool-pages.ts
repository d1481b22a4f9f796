import { afterAll, beforeAll } from '@jest/globals';
import { sql } from 'drizzle-orm';
import type { BrowserContext, Frame, Page } from 'playwright-core';
import type { Stack } from '../test/helpers/stack.js';
import { createAssessment, SUBS } from '../test/helpers/assessments.js';
import { activatePrompt, allowLlm, homeIds, submitMany, userIdOf } from '../test/helpers/queue-fixtures.js';
import { builtinTemplates } from '../src/models/prompts/library.js';
import type { PromptDraft } from '../src/models/prompts/prompt-draft.js';
import { savePrompt } from '../src/models/prompts/prompts.service.js';
import { findTaskInCourse } from '../src/models/tasks/tasks.repository.js';
import { createBatches } from '../src/models/batches/batches.service.js';
import { takeToGradeByHand } from '../src/models/submissions/regrade.service.js';
import type { Chromium } from './browser.js';
import { useBrowserStack, type BrowserStack } from './browser-stack.js';

/**
 * Each role's pages as data, for the browser suites that visit them all (axe, narrow frames). To cover another
 * page, add one line to TOOL_PAGES; a page that needs a new record adds it to PageFixtures and buildPageFixtures.
 */

export type Role = 'student' | 'instructor' | 'administrator';

/** Ids of the records the pages show, made once per stack by buildPageFixtures. */
export interface PageFixtures {
  taskId: number;
  /** A submission of student1 whose feedback is released (approved). */
  feedbackSubmissionId: number;
  /** An assessment waiting for review, flagged. */
  reviewAssessmentId: number;
  batchId: number;
  /** Work taken to grade by hand (a manual assessment). */
  manualAssessmentId: number;
  /** student1's user id. */
  studentId: number;
}

export interface ToolPage {
  role: Role;
  name: string;
  path: (f: PageFixtures) => string;
  /**
   * What a person needs first on a narrow (390 px) frame, as a selector in the tool's frame: it must lie within
   * the frame's width, or inside its own scroll region and stay in view when that region is scrolled to the end
   * (a sticky key column). Pages with one are the ones the narrow suite looks at closely.
   */
  key?: string;
  /** After the page loaded: open or fill what the page needs to show its hard parts. */
  prepare?: (frame: Frame) => Promise<void>;
}

export const TOOL_PAGES: ToolPage[] = [
  { role: 'student', name: 'student home', path: () => '/student', key: 'main .task-list a' },
  { role: 'student', name: 'student task (with submissions)', path: (f) => `/student/tasks/${f.taskId}`, key: '#student-submissions a[href*="/feedback"]' },
  { role: 'student', name: 'student feedback', path: (f) => `/student/submissions/${f.feedbackSubmissionId}/feedback`, key: 'main h1' },
  { role: 'student', name: 'student my data', path: () => '/student/my-data' },
  { role: 'student', name: 'student inbox', path: () => '/inbox', key: '#inbox-list' },
  { role: 'instructor', name: 'instructor home', path: () => '/instructor', key: 'main table a' },
  { role: 'instructor', name: 'instructor task', path: (f) => `/instructor/tasks/${f.taskId}`, key: '#task-students tbody th a' },
  { role: 'instructor', name: 'task settings', path: (f) => `/instructor/tasks/${f.taskId}/settings`, key: '#task-settings button[type="submit"]' },
  { role: 'student', name: 'what the student handed in', path: (f) => `/student/submissions/${f.feedbackSubmissionId}`, key: '#own-work' },
  { role: 'instructor', name: 'prompt editor', path: (f) => `/instructor/tasks/${f.taskId}/prompt`, key: '#prompts-history button' },
  { role: 'instructor', name: 'prompt version', path: (f) => `/instructor/tasks/${f.taskId}/prompt/versions/1` },
  { role: 'instructor', name: 'prompt A/B test', path: (f) => `/instructor/tasks/${f.taskId}/ab-test`, key: '#prompts-ab-test button[type="submit"]' },
  { role: 'instructor', name: 'review list', path: () => '/instructor/review', key: '#review-queue tbody tr a' },
  { role: 'instructor', name: 'review page', path: (f) => `/instructor/review/${f.reviewAssessmentId}`, key: 'button:text-is("Approve")' },
  { role: 'instructor', name: 'review page (grade by hand)', path: (f) => `/instructor/review/${f.manualAssessmentId}`, key: 'button:text-is("Save grade")' },
  { role: 'instructor', name: 'agreement', path: () => '/instructor/analytics' },
  { role: 'instructor', name: 'course settings', path: () => '/instructor/settings' },
  { role: 'instructor', name: 'consent', path: () => '/instructor/consent' },
  { role: 'administrator', name: 'admin overview', path: () => '/admin' },
  { role: 'administrator', name: 'admin queue', path: () => '/admin/queue', key: '#queue-actions tbody input[name="ids"]' },
  { role: 'administrator', name: 'batches', path: () => '/admin/batches', key: '#batches-list tbody a' },
  { role: 'administrator', name: 'a batch', path: (f) => `/admin/batches/${f.batchId}` },
  { role: 'administrator', name: 'batch schedules', path: () => '/admin/schedules', key: '#schedules-list tbody a' },
  { role: 'administrator', name: 'costs', path: () => '/admin/costs', key: '#costs-by-course tbody th, #costs-by-course tbody td' },
  { role: 'administrator', name: 'cost report', path: () => '/admin/costs/report' },
  { role: 'administrator', name: 'LMS registrations', path: () => '/admin/platforms' },
  { role: 'administrator', name: 'people (search)', path: () => '/admin/people?q=a', key: 'main table tbody a' },
  { role: 'administrator', name: 'a person', path: (f) => `/admin/people/${f.studentId}` },
  { role: 'administrator', name: 'privacy', path: () => '/admin/privacy' },
  { role: 'administrator', name: 'audit log', path: () => '/admin/audit' },
  { role: 'administrator', name: 'monitoring', path: () => '/admin/monitoring', key: '.kpi-tiles li' },
  { role: 'student', name: 'e-mail preferences', path: () => '/preferences', key: '#preferences-form button[type="submit"]' },
  { role: 'administrator', name: 'notifications', path: () => '/admin/notifications', key: 'main table.stacked tbody a' },
  { role: 'administrator', name: 'a notice wording', path: () => '/admin/notifications/wording?kind=feedback_ready', key: '#wording-form button[type="submit"]' },
];

const LOGIN: Record<Role, { login: string; query: string }> = {
  student: { login: 'student1', query: '?task=1' },
  instructor: { login: 'instructor', query: '?task=1' },
  administrator: { login: 'admin', query: '' },
};

/** The stack's option for these suites: batches of two, so a small queue makes one. */
export const PAGE_STACK_OPTIONS = { env: { BATCH_MIN_SIZE: '2' } };

/**
 * The records the pages need, made through the product's services and the dev LMS launches: a course with LLM
 * assessment on, two prompt versions (so one can be rolled back to), queued work, a batch, assessments to review,
 * one approved (its feedback released), spend and a budget this month.
 */
export async function buildPageFixtures(stack: Stack): Promise<PageFixtures> {
  const instructor = await stack.browser().launch(stack.devlmsUrl, 'instructor', { task: '1' });
  for (const s of ['student1', 'student2', 'student3']) await stack.browser().launch(stack.devlmsUrl, s, { task: '1' });
  const admin = await stack.browser().launch(stack.devlmsUrl, 'admin');
  const home = await homeIds(stack);
  const db = stack.db.db;
  await allowLlm(db, home.courseId, home.instructorId);
  await activatePrompt(db, home, home.taskId);
  // A second version, so the history offers "Roll back to this" for the first.
  const task = (await findTaskInCourse(db, home.courseId, home.taskId))!;
  const tpl = builtinTemplates().find((t) => t.key === 'builtin:short-answer') ?? builtinTemplates()[0]!;
  const draft = { ...tpl.content, provider: 'openai', maxScoreMode: 'sum', temperature: 0.2 } as PromptDraft;
  await db.transaction((tx) => savePrompt(tx, { platformId: home.platformId, courseId: home.courseId, userId: home.instructorId }, task, draft, { note: 'warmer' }));

  const student1 = await userIdOf(stack, '5e02');
  const student2 = await userIdOf(stack, '5e03');
  const queued = await submitMany(stack, home, home.taskId, student2, 4);
  const { batches: [batch] } = await db.transaction((tx) => createBatches(tx, stack.config.batches, { platformId: home.platformId, userId: home.instructorId }, { scope: 'selected', ids: queued.slice(0, 2) }, { notes: 'narrow frames' }));

  const released = await createAssessment(stack, { taskId: home.taskId, studentSub: SUBS.student1 });
  const approved = await instructor.post(`/instructor/review/${released.id}/approve`, { decisionSeq: '0' }, { htmx: true });
  if (approved.status !== 200) throw new Error(`approving the fixture assessment answered ${approved.status}`);
  const flagged = await createAssessment(stack, {
    taskId: home.taskId,
    studentSub: SUBS.student3,
    confidence: 0.3,
    flags: [{ code: 'low_confidence', message: 'The model reports low confidence (0.3).' }],
  });
  await createAssessment(stack, { taskId: home.taskId, studentSub: SUBS.student3 });
  // Work the grader failed on, taken to grade by hand from the task page.
  await db.execute(sql`update queue_items set status = 'failed', last_error = 'narrow frames' where id = ${queued[3]!}`);
  const failedSubmission = Number((await db.execute<{ id: number }>(sql`select submission_id as id from queue_items where id = ${queued[3]!}`)).rows[0]!.id);
  const manualAssessmentId = await db.transaction((tx) => takeToGradeByHand(tx, { platformId: home.platformId, courseId: home.courseId, userId: home.instructorId }, home.taskId, failedSubmission));

  await db.execute(sql`
    insert into cost_ledger (platform_id, course_id, month, kind, amount_micros, idempotency_key)
    values (${home.platformId}, ${home.courseId}, date_trunc('month', now())::date, 'charge', 4_250_000, 'charge:narrow-pages')`);
  const month = new Date().toISOString().slice(0, 7);
  const budget = await admin.post('/admin/costs/budgets', { scope: `course-${home.courseId}`, month, limit: '50' }, { htmx: true });
  if (budget.status !== 200) throw new Error(`setting the fixture budget answered ${budget.status}`);

  // A schedule with a run that made the batch, so the Schedules page shows both of its tables.
  const schedule = await db.execute<{ id: number }>(sql`
    insert into batch_schedules (platform_id, name, trigger, threshold_items, threshold_wait_minutes, window_start_minute, window_end_minute, min_items, max_items, needs_confirmation, next_run_at, created_by)
    values (${home.platformId}, 'Automatic, a long name to see how it wraps in a narrow frame', 'threshold', 100, 30, 1320, 360, 1, 1000, false, now() + interval '1 minute', ${home.instructorId})
    returning id`);
  await db.execute(sql`
    insert into batch_schedule_runs (schedule_id, platform_id, due_at, outcome, batch_ids, items, est_cost_micros, message)
    values (${Number(schedule.rows[0]!.id)}, ${home.platformId}, date_trunc('minute', now()), 'created', ${sql.param([batch!.id])}::bigint[], 2, 250, '1 batch of 2 items made, waiting for an administrator to confirm.')`);
  return { taskId: home.taskId, feedbackSubmissionId: released.submissionId, reviewAssessmentId: flagged.id, batchId: batch!.id, manualAssessmentId, studentId: student1 };
}

/**
 * One dev LMS page per role, its tool frame reused for every page of that role: a launch per role, then each
 * page opened in the frame by URL with the launch token, as the tool's own links carry it. Each role has its own
 * browser context: the tool's session cookie is one per LMS, so a second launch in the same context would end
 * the first person's session.
 */
export class RoleFrames {
  private readonly open = new Map<Role, { context: BrowserContext; page: Page; frame: Frame }>();

  constructor(
    private readonly chrome: () => Chromium,
    private readonly devlmsUrl: () => string,
  ) {}

  /** The role's LMS page and tool frame, launched on first use. */
  async of(role: Role): Promise<{ page: Page; frame: Frame }> {
    const known = this.open.get(role);
    if (known) return { page: known.page, frame: known.frame };
    const context = await this.chrome().browser.newContext();
    const page = await context.newPage();
    await page.goto(`${this.devlmsUrl()}/launch/${LOGIN[role].login}${LOGIN[role].query}`);
    const frame = (await (await page.waitForSelector('iframe#tool-frame')).contentFrame())!;
    await frame.waitForSelector('meta[name="ltik"]', { state: 'attached', timeout: 15_000 });
    this.open.set(role, { context, page, frame });
    return { page, frame };
  }

  /** Opens a tool page in its role's frame and waits for it to settle; returns the frame. */
  async visit(target: ToolPage, fixtures: PageFixtures): Promise<{ page: Page; frame: Frame }> {
    const opened = await this.of(target.role);
    const { frame } = opened;
    const ltik = await frame.locator('meta[name="ltik"]').getAttribute('content');
    const url = new URL(target.path(fixtures), frame.url());
    url.searchParams.set('ltik', ltik!);
    const response = await frame.goto(url.href);
    if (response && response.status() !== 200) throw new Error(`${target.name}: ${url.pathname} answered ${response.status()}`);
    await frame.waitForSelector('main#main');
    await target.prepare?.(frame);
    return opened;
  }

  async close(): Promise<void> {
    for (const { context } of this.open.values()) await context.close().catch(() => {});
    this.open.clear();
  }
}

/**
 * A describe's stack, Chromium, page fixtures and role frames, set up before its tests and closed after them (the
 * suites that visit every page share this). Read `fixtures` inside a test.
 */
export function usePageFrames(): { env: BrowserStack; frames: RoleFrames; readonly fixtures: PageFixtures } {
  const env = useBrowserStack(PAGE_STACK_OPTIONS);
  const frames = new RoleFrames(() => env.chrome, () => env.stack.devlmsUrl);
  let fixtures: PageFixtures | undefined;
  beforeAll(async () => {
    fixtures = await buildPageFixtures(env.stack);
  }, 60_000);
  afterAll(() => frames.close());
  return {
    env,
    frames,
    get fixtures() {
      if (!fixtures) throw new Error('The page fixtures are not built: read them inside a test.');
      return fixtures;
    },
  };
}
