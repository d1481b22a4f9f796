import { and, eq, sql } from 'drizzle-orm';
import type { Db } from '../../db/db.js';
import type { ReviewStatus } from '../assessments/assessments.table.js';
import type { ReleasePolicy } from '../tasks/tasks.table.js';
import { submissions } from './submissions.table.js';

export type SubmissionRow = typeof submissions.$inferSelect;
export type NewSubmission = typeof submissions.$inferInsert;

export async function insertSubmission(db: Db, values: NewSubmission): Promise<SubmissionRow> {
  const [row] = await db.insert(submissions).values(values).returning();
  return row!;
}

/** The highest attempt a student made at a task (0 for none). Call under the submit lock. */
export async function lastAttempt(db: Db, taskId: number, studentId: number): Promise<number> {
  const [row] = await db
    .select({ n: sql<number>`coalesce(max(${submissions.attempt}), 0)::int` })
    .from(submissions)
    .where(and(eq(submissions.taskId, taskId), eq(submissions.studentId, studentId)));
  return Number(row?.n ?? 0);
}

/**
 * Serializes submissions of one student to one task (a double click, two tabs), so attempt numbers are taken
 * one at a time and the task's attempt limit holds. Transaction-scoped: released at commit or rollback.
 */
export async function lockStudentTask(db: Db, taskId: number, studentId: number): Promise<void> {
  await db.execute(sql`select pg_advisory_xact_lock(hashtextextended(${`submit:${taskId}:${studentId}`}, 0))`);
}

/**
 * Who wrote a submission, which attempt it was, its encrypted text (null once retention removed it) and the name
 * of the file it came from (its extension tells a source file's language).
 */
export type SubmissionContentRow = {
  student_id: number;
  course_id: number;
  task_id: number;
  attempt: number;
  content: Buffer | null;
  content_format: 'text' | 'markdown';
  original_filename: string | null;
  submitted_at: Date;
  purged_at: Date | null;
};

export async function findSubmissionContent(db: Db, submissionId: number): Promise<SubmissionContentRow | undefined> {
  const rows = await db.execute<SubmissionContentRow>(sql`
    select student_id, course_id, task_id, attempt, content, content_format, original_filename, created_at as submitted_at, purged_at from submissions where id = ${submissionId}`);
  return rows.rows[0];
}

/** What a student's status page reads of one submission: its latest queue item, batch and assessment. */
export type StudentStatusRow = {
  submission_id: number;
  task_id: number;
  task_title: string;
  due_at: Date | null;
  attempt: number;
  submitted_at: Date;
  queue_item_id: number | null;
  q_status: string | null;
  priority: string | null;
  priority_rank: number | null;
  batch_id: number | null;
  q_created_at: Date | null;
  not_before: Date | null;
  platform_id: number | null;
  batch_submitted_at: Date | null;
  review_status: ReviewStatus | null;
  release_policy: ReleasePolicy;
  auto_release_min_confidence: number | null;
  computed_confidence: number | null;
  needs_review: boolean | null;
  flag_count: number | null;
  has_assessment: boolean;
  kind: 'llm' | 'manual' | null;
  score: number | null;
  override_score: number | null;
  max_score: number | null;
};

/**
 * The student's submissions (of one task, or of every task of the course), newest first, each with its latest queue
 * item and assessment.
 */
export async function studentStatusRows(db: Db, of: { taskId: number } | { courseId: number }, studentId: number): Promise<StudentStatusRow[]> {
  const where = 'taskId' in of ? sql`s.task_id = ${of.taskId}` : sql`s.course_id = ${of.courseId}`;
  const rows = await db.execute<StudentStatusRow>(sql`
    select s.id as submission_id, s.task_id, t.title as task_title, t.due_at, s.attempt, s.created_at as submitted_at,
           q.id as queue_item_id, q.status as q_status, q.priority, q.priority_rank, q.batch_id, q.created_at as q_created_at, q.not_before, q.platform_id,
           b.submitted_at as batch_submitted_at,
           a.review_status, t.release_policy, t.auto_release_min_confidence, a.computed_confidence, a.needs_review, jsonb_array_length(a.flags) as flag_count, (a.id is not null) as has_assessment,
           a.kind, a.score, a.override_score, a.max_score
    from submissions s
    join tasks t on t.id = s.task_id
    left join lateral (select * from queue_items qi where qi.submission_id = s.id order by qi.id desc limit 1) q on true
    left join batches b on b.id = q.batch_id
    left join lateral (select * from assessments x where x.submission_id = s.id order by x.id desc limit 1) a on true
    where ${where} and s.student_id = ${studentId}
    order by s.created_at desc, s.id desc`);
  return rows.rows;
}
