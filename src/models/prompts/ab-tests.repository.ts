import { and, desc, eq, sql } from 'drizzle-orm';
import type { Db } from '../../db/db.js';
import { abPairedGrades, promptAbTests, type AbArm } from './ab-tests.table.js';
import { prompts } from './prompts.table.js';

export type AbTestRow = typeof promptAbTests.$inferSelect;

export async function insertAbTest(db: Db, values: Omit<typeof promptAbTests.$inferInsert, 'id' | 'createdAt' | 'status'>): Promise<AbTestRow> {
  const [row] = await db.insert(promptAbTests).values(values).returning();
  return row!;
}

/** The task's running test, locked when `forUpdate` (starting, ending and the submit path decide on it). */
export async function findRunningTest(db: Db, taskId: number, forUpdate = false): Promise<AbTestRow | undefined> {
  const q = db.select().from(promptAbTests).where(and(eq(promptAbTests.taskId, taskId), eq(promptAbTests.status, 'running')));
  const [row] = forUpdate ? await q.for('update') : await q;
  return row;
}

/** The running test of the task, else its most recently ended one (whose results the page still shows). */
export async function findLatestTest(db: Db, taskId: number): Promise<AbTestRow | undefined> {
  const [row] = await db.select().from(promptAbTests).where(eq(promptAbTests.taskId, taskId)).orderBy(desc(sql`${promptAbTests.status} = 'running'`), desc(promptAbTests.id)).limit(1);
  return row;
}

/** running → ended, once: the second of two "end" clicks finds nothing to end. */
export async function markEnded(db: Db, testId: number, winnerVersionId: number, endedBy: number): Promise<AbTestRow | undefined> {
  const [row] = await db
    .update(promptAbTests)
    .set({ status: 'ended', winnerVersionId, endedBy, endedAt: new Date() })
    .where(and(eq(promptAbTests.id, testId), eq(promptAbTests.status, 'running')))
    .returning();
  return row;
}

/** The task's prompt grades new work with this version (active again if it was archived). */
export async function setActiveVersion(db: Db, taskId: number, versionId: number): Promise<void> {
  await db.update(prompts).set({ activeVersionId: versionId, status: 'active', updatedAt: new Date() }).where(eq(prompts.taskId, taskId));
}

/** A decided model grade of a submission in the test: which version made it, the model's and the decided figures. */
export interface DecidedArmRow {
  submissionId: number;
  promptVersionId: number;
  reviewStatus: 'approved' | 'overridden';
  score: number;
  overrideScore: number | null;
  overrideCriteria: Record<string, number> | null;
  result: Record<string, unknown> | null;
  /** The other version's grade of the same submission (paired comparison), when it was made. */
  pairedScore: number | null;
}

export async function listDecidedInTest(db: Db, testId: number): Promise<DecidedArmRow[]> {
  const rows = await db.execute<{
    submission_id: number; prompt_version_id: number; review_status: 'approved' | 'overridden'; score: number; override_score: number | null;
    override_criteria: Record<string, number> | null; result: Record<string, unknown> | null; paired_score: number | null;
  }>(sql`
    select a.submission_id, a.prompt_version_id, a.review_status, a.score, a.override_score, a.override_criteria, a.result, p.score as paired_score
    from queue_items q join assessments a on a.queue_item_id = q.id
    left join ab_paired_grades p on p.ab_test_id = q.ab_test_id and p.submission_id = q.submission_id
    where q.ab_test_id = ${testId} and a.kind = 'llm' and a.review_status in ('approved', 'overridden') and a.score is not null
    order by a.id`);
  return rows.rows.map((r) => ({
    submissionId: Number(r.submission_id),
    promptVersionId: Number(r.prompt_version_id),
    reviewStatus: r.review_status,
    score: Number(r.score),
    overrideScore: r.override_score == null ? null : Number(r.override_score),
    overrideCriteria: r.override_criteria,
    result: r.result,
    pairedScore: r.paired_score == null ? null : Number(r.paired_score),
  }));
}

/** A graded submission of the test the other version has not graded yet: what a paired grading sends. */
export interface PairCandidateRow {
  submissionId: number;
  studentId: number;
  attempt: number;
  content: Buffer | null;
  originalFilename: string | null;
  /** The version that graded it (its arm); the other one grades it now. */
  promptVersionId: number;
}

export async function listPairCandidates(db: Db, testId: number, limit: number): Promise<PairCandidateRow[]> {
  const rows = await db.execute<{ submission_id: number; student_id: number; attempt: number; content: Buffer | null; original_filename: string | null; prompt_version_id: number }>(sql`
    select s.id as submission_id, s.student_id, s.attempt, s.content, s.original_filename, q.prompt_version_id
    from queue_items q join assessments a on a.queue_item_id = q.id join submissions s on s.id = q.submission_id
    where q.ab_test_id = ${testId} and a.kind = 'llm' and a.score is not null and a.review_status <> 'rejected' and s.content is not null
      and not exists (select 1 from ab_paired_grades p where p.ab_test_id = ${testId} and p.submission_id = s.id)
    order by a.id limit ${limit}`);
  return rows.rows.map((r) => ({
    submissionId: Number(r.submission_id),
    studentId: Number(r.student_id),
    attempt: r.attempt,
    content: r.content,
    originalFilename: r.original_filename,
    promptVersionId: Number(r.prompt_version_id),
  }));
}

export async function insertPairedGrade(db: Db, row: { abTestId: number; submissionId: number; promptVersionId: number; arm: AbArm; score: number | null; criteria: Record<string, number>; costMicros: number }): Promise<void> {
  await db.insert(abPairedGrades).values(row).onConflictDoNothing();
}

/** Submissions per arm so far (graded or not), for the page's "who got which version". */
export async function countArms(db: Db, testId: number): Promise<Map<number, number>> {
  const rows = await db.execute<{ prompt_version_id: number; n: number }>(sql`select prompt_version_id, count(*)::int as n from queue_items where ab_test_id = ${testId} group by prompt_version_id`);
  return new Map(rows.rows.map((r) => [Number(r.prompt_version_id), Number(r.n)]));
}
