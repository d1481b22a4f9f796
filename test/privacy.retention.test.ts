import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { sql } from 'drizzle-orm';
import { applyRetention } from '../src/models/privacy/retention.service.js';
import { REMOVED_TEXT } from '../src/models/privacy/retention.repository.js';
import { retentionJob } from '../src/jobs/retention.job.js';
import { silentLogger } from '../src/log.js';
import { startStack, type Stack } from './helpers/stack.js';
import type { ToolSession } from './helpers/lti-browser.js';
import { launchWith, OTHER_COURSE } from './helpers/launches.js';
import { createAssessment, SUBS } from './helpers/assessments.js';
import { homeIds } from './helpers/queue-fixtures.js';
import { textOf } from './helpers/html.js';

const DAY = 24 * 60 * 60 * 1000;

/**
 * Issue 17, item 1: each course's retention policy erases what was written (the work, the model's texts, the
 * reviewers' texts) a number of days after grading ended, and nothing else: scores, decisions and the audit trail
 * stay, unfinished work keeps its text, a course that keeps submissions keeps them.
 */
describe('retention', () => {
  let stack: Stack;
  let instructor: ToolSession;
  let student1: ToolSession;
  let course101: number;
  let course202: number;
  let task101: number;
  let task202: number;
  const db = () => stack.db.db;

  beforeAll(async () => {
    stack = await startStack();
    instructor = await stack.browser().launch(stack.devlmsUrl, 'instructor', { task: '1' });
    student1 = await stack.browser().launch(stack.devlmsUrl, 'student1', { task: '1' });
    for (const s of ['student2', 'student3']) await stack.browser().launch(stack.devlmsUrl, s, { task: '1' });
    await launchWith(stack, stack.browser(), 'instructor', { task: '1' }, OTHER_COURSE);
    await launchWith(stack, stack.browser(), 'student1', { task: '1' }, OTHER_COURSE);
    const home = await homeIds(stack);
    const other = await homeIds(stack, 'course-202');
    [course101, task101, course202, task202] = [home.courseId, home.taskId, other.courseId, other.taskId];
    // Course 101 keeps content 10 days after grading; course 202 has no privacy settings (the 30-day default).
    await db().execute(sql`insert into course_privacy (course_id, llm_allowed, retention_days) values (${course101}, true, 10)`);
  }, 60_000);
  afterAll(async () => {
    await stack?.close();
  });

  /** An assessment graded `daysAgo` days ago (decided unless `pending`), with reviewers' texts on it. */
  async function graded(taskId: number, studentSub: string, daysAgo: number, options: { pending?: boolean } = {}) {
    const a = await createAssessment(stack, { taskId, studentSub });
    const at = new Date(Date.now() - daysAgo * DAY).toISOString();
    await db().execute(sql`update submissions set created_at = ${at}::timestamptz - interval '1 hour', original_filename = 'essay-of-amara.txt' where id = ${a.submissionId}`);
    await db().execute(sql`update queue_items set updated_at = ${at}::timestamptz, created_at = ${at}::timestamptz, admin_notes = 'Rejected by the instructor: see Amara''s sources' where id = ${a.queueItemId}`);
    await db().execute(sql`update assessments set created_at = ${at}::timestamptz, raw_output = '{"comments": "Amara argues well"}' where id = ${a.id}`);
    if (!options.pending) {
      await db().execute(sql`
        update assessments set review_status = 'overridden', override_score = 70, override_category = 'too_lenient', override_reason = 'Amara cited a weak source', override_feedback = 'Dear Amara, …',
          review_note = 'checked', reviewed_at = ${at}::timestamptz, decision_seq = 1 where id = ${a.id}`);
    }
    return a;
  }
  const submission = async (id: number) =>
    (await db().execute<{ content: Buffer | null; purged_at: Date | null; original_filename: string | null }>(sql`select content, purged_at, original_filename from submissions where id = ${id}`)).rows[0]!;
  const assessment = async (id: number) =>
    (await db().execute<{ result: Record<string, unknown> | null; raw_output: string | null; override_reason: string | null; override_feedback: string | null; review_note: string | null; score: string; override_score: string | null; review_status: string; override_category: string | null }>(sql`
      select result, raw_output, override_reason, override_feedback, review_note, score, override_score, review_status, override_category from assessments where id = ${id}`)).rows[0]!;

  it('erases exactly what is past each course\'s policy, in chunks, and keeps the scores, the decisions and unfinished work', async () => {
    const old101 = await graded(task101, SUBS.student1, 11);
    const recent101 = await graded(task101, SUBS.student2, 5);
    const pendingOld101 = await graded(task101, SUBS.student3, 40, { pending: true });
    const queuedOld101 = await graded(task101, SUBS.student2, 40);
    await db().execute(sql`update queue_items set status = 'queued' where id = ${queuedOld101.queueItemId}`);
    const old202 = await graded(task202, SUBS.student1, 31);
    const recent202 = await graded(task202, SUBS.student1, 20);
    const before = await assessment(old101.id);

    const run = await applyRetention(db(), { chunkSize: 1 });
    expect(run.submissions).toBe(2);
    expect(run.courses.get(course101)).toEqual({ submissions: 1, assessments: 1 });
    expect(run.courses.get(course202)).toEqual({ submissions: 1, assessments: 1 });

    for (const erased of [old101, old202]) {
      const s = await submission(erased.submissionId);
      expect(s.content).toBeNull();
      expect(s.original_filename).toBeNull();
      expect(s.purged_at).not.toBeNull();
      const a = await assessment(erased.id);
      // The category is not personal: it stays with the scores for the agreement figures.
      expect(a).toMatchObject({ raw_output: null, override_reason: REMOVED_TEXT, override_feedback: null, review_note: null, review_status: 'overridden', override_score: 70, override_category: 'too_lenient' });
      expect(JSON.stringify(a.result)).not.toMatch(/justification|comments|strengths|reasoning|Amara/);
      expect(a.result).toMatchObject({ content_removed: true, total_score: (before.result as { total_score: number }).total_score });
      expect(Object.keys((a.result as { criteria: object }).criteria)).toEqual(Object.keys((before.result as { criteria: object }).criteria));
    }
    expect(Number((await assessment(old101.id)).score)).toBe(Number(before.score));
    for (const kept of [recent101, pendingOld101, queuedOld101, recent202]) {
      expect((await submission(kept.submissionId)).content).not.toBeNull();
      expect((await assessment(kept.id)).raw_output).not.toBeNull();
    }
    const notes = await db().execute<{ admin_notes: string }>(sql`select admin_notes from queue_items where id = ${old101.queueItemId}`);
    expect(notes.rows[0]!.admin_notes).toBe('');

    // The audit log counts, per course, and holds no text.
    const audit = await db().execute<{ course_id: number; details: Record<string, number> }>(sql`select course_id, details from audit_log where action = 'retention.content_removed' order by id`);
    expect(audit.rows.map((r) => [Number(r.course_id), r.details])).toEqual([
      [course101, { submissions: 1, assessments: 1 }],
      [course202, { submissions: 1, assessments: 1 }],
    ]);
  });

  it('is idempotent: a second run finds nothing and writes nothing', async () => {
    const audits = async () => Number((await db().execute<{ n: number }>(sql`select count(*)::int as n from audit_log`)).rows[0]!.n);
    const before = await audits();
    const run = await applyRetention(db());
    expect(run.submissions).toBe(0);
    expect(await audits()).toBe(before);
  });

  it('keeps everything in a course whose policy is to keep, however old', async () => {
    await db().execute(sql`insert into course_privacy (course_id, retention_days) values (${course202}, null)`);
    const ancient = await graded(task202, SUBS.student1, 400);
    await retentionJob.handle({ db: db(), logger: silentLogger, config: stack.config } as never, {});
    expect((await submission(ancient.submissionId)).content).not.toBeNull();
  });

  it('resumes a run stopped half-way: whole chunks done, the rest by the next run', async () => {
    await db().execute(sql`update course_privacy set retention_days = 1 where course_id = ${course202}`);
    const waiting = (await db().execute<{ n: number }>(sql`select count(*)::int as n from submissions where course_id = ${course202} and purged_at is null`)).rows[0]!.n;
    expect(waiting).toBeGreaterThanOrEqual(2);
    const first = await applyRetention(db(), { chunkSize: 1, maxChunks: 1 });
    expect(first.submissions).toBe(1);
    const rest = await applyRetention(db(), { chunkSize: 1 });
    expect(rest.submissions).toBe(waiting - 1);
    const left = (await db().execute<{ n: number }>(sql`select count(*)::int as n from submissions where course_id = ${course202} and purged_at is null`)).rows[0]!.n;
    expect(left).toBe(0);
  });

  it('lets two runs at once share the work: each submission erased once, counted once', async () => {
    for (const sub of [SUBS.student1, SUBS.student2, SUBS.student3, SUBS.student1]) await graded(task101, sub, 12);
    const counted = async () => Number((await db().execute<{ n: number }>(sql`
      select coalesce(sum((details ->> 'submissions')::int), 0)::int as n from audit_log where action = 'retention.content_removed'`)).rows[0]!.n);
    const before = await counted();
    const [a, b] = await Promise.all([applyRetention(db(), { chunkSize: 1 }), applyRetention(db(), { chunkSize: 1 })]);
    expect(a.submissions + b.submissions).toBe(4);
    expect((await counted()) - before).toBe(4);
  });

  it('tells the student, on their feedback, that the work and its written feedback were removed; the score stays', async () => {
    const erased = (await db().execute<{ id: number }>(sql`
      select s.id from submissions s join users u on u.id = s.student_id where s.course_id = ${course101} and s.purged_at is not null and u.sub = ${SUBS.student1} limit 1`)).rows[0]!;
    const page = await student1.get(`/student/submissions/${erased.id}/feedback`);
    expect(page.status).toBe(200);
    expect(textOf(page.html)).toMatch(/Your work and the written feedback on it were removed on .* under the course's retention policy; your score stays\./);
    expect(textOf(page.html)).toContain('70 / ');
  });

  it('shows the reviewer that the text was removed under the retention policy', async () => {
    const erased = (await db().execute<{ id: number }>(sql`
      select a.id from assessments a join submissions s on s.id = a.submission_id where s.course_id = ${course101} and s.purged_at is not null limit 1`)).rows[0]!;
    const page = await instructor.get(`/instructor/review/${erased.id}`);
    expect(page.status).toBe(200);
    expect(textOf(page.html)).toMatch(/The text of this submission was removed on \d+ \w+ \d{4}, \d\d:\d\d UTC under the course's retention policy/);
  });
});
