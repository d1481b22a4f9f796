import { sql } from 'drizzle-orm';
import type { Db } from '../../db/db.js';

/** A result a batch graded, with what its request was made from. */
export interface BatchResultRow {
  assessmentId: number;
  score: number;
  promptVersionId: number;
  studentId: number;
  attempt: number;
  content: Buffer;
  originalFilename: string | null;
}

/**
 * Up to `n` of the task's usable batch results, picked at random (a sample of the task's work, not its first items):
 * graded by a batch (not reused, not by hand), with the submission's text still kept.
 */
export async function sampleBatchResults(db: Db, taskId: number, n: number): Promise<BatchResultRow[]> {
  const rows = await db.execute<{ id: number; score: number; prompt_version_id: number; student_id: number; attempt: number; content: Buffer; original_filename: string | null }>(sql`
    select a.id, a.score, a.prompt_version_id, s.student_id, s.attempt, s.content, s.original_filename
    from assessments a join submissions s on s.id = a.submission_id
    where a.task_id = ${taskId} and a.kind = 'llm' and a.batch_id is not null and a.reused_from_id is null and a.score is not null and s.content is not null
    order by random() limit ${n}`);
  return rows.rows.map((r) => ({
    assessmentId: Number(r.id), score: Number(r.score), promptVersionId: Number(r.prompt_version_id), studentId: Number(r.student_id), attempt: r.attempt, content: r.content, originalFilename: r.original_filename,
  }));
}
