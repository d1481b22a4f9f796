import { and, eq, sql } from 'drizzle-orm';
import type { Db } from '../../db/db.js';
import { appeals, type AppealStatus } from './appeals.table.js';

export type AppealRow = typeof appeals.$inferSelect;

export async function findAppealOfSubmission(db: Db, submissionId: number): Promise<AppealRow | undefined> {
  const [row] = await db.select().from(appeals).where(eq(appeals.submissionId, submissionId));
  return row;
}

/** The appeal of an assessment's attempt in the course, locked until the caller's transaction ends. */
export async function lockAppealOfAssessment(db: Db, courseId: number, assessmentId: number): Promise<AppealRow | undefined> {
  const [row] = await db.select().from(appeals).where(and(eq(appeals.assessmentId, assessmentId), eq(appeals.courseId, courseId))).for('update');
  return row;
}

export async function findAppealOfAssessment(db: Db, courseId: number, assessmentId: number): Promise<AppealRow | undefined> {
  const [row] = await db.select().from(appeals).where(and(eq(appeals.assessmentId, assessmentId), eq(appeals.courseId, courseId)));
  return row;
}

/** A new appeal; undefined when the attempt already has one (one per attempt, by a unique index). */
export async function insertAppeal(db: Db, a: Pick<AppealRow, 'platformId' | 'courseId' | 'taskId' | 'submissionId' | 'assessmentId' | 'studentId' | 'reason'>): Promise<AppealRow | undefined> {
  const [row] = await db.insert(appeals).values(a).onConflictDoNothing({ target: appeals.submissionId }).returning();
  return row;
}

/** Resolves an open appeal (only an open one: a second resolution applies nothing). */
export async function resolveAppeal(db: Db, id: number, change: { status: Exclude<AppealStatus, 'open'>; reply: string; resolvedBy: number }): Promise<AppealRow | undefined> {
  const [row] = await db
    .update(appeals)
    .set({ ...change, resolvedAt: sql`now()` })
    .where(and(eq(appeals.id, id), eq(appeals.status, 'open')))
    .returning();
  return row;
}

/** Retention and erasure: the student's reason and the reply go with the work; the outcome stays. */
export async function eraseAppealTexts(db: Db, submissionIds: number[], removed: string): Promise<void> {
  if (!submissionIds.length) return;
  await db.execute(sql`
    update appeals set reason = ${removed}, reply = case when reply is null then null else ${removed} end
    where submission_id = any(${sql.param(submissionIds)}::bigint[])`);
}
