import { and, eq, sql } from 'drizzle-orm';
import type { Db } from '../../db/db.js';
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

/** Who wrote a submission, which attempt it was, and its encrypted text (null once retention removed it). */
export async function findSubmissionContent(db: Db, submissionId: number): Promise<{ student_id: number; attempt: number; content: Buffer | null } | undefined> {
  const rows = await db.execute<{ student_id: number; attempt: number; content: Buffer | null }>(sql`select student_id, attempt, content from submissions where id = ${submissionId}`);
  return rows.rows[0];
}
