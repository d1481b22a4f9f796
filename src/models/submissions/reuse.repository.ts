import { sql } from 'drizzle-orm';
import type { Db } from '../../db/db.js';
import type { AssessmentFlag } from '../../grading/rubric.js';
import { assessments } from '../assessments/assessments.table.js';

/** A usable model grade of an earlier identical request (same hash) of the same student and task. */
export interface ReusableResult {
  assessmentId: number;
  attempt: number;
  model: string;
  result: Record<string, unknown>;
  score: number;
  maxScore: number;
  modelConfidence: number | null;
  computedConfidence: number | null;
  flags: AssessmentFlag[];
  needsReview: boolean;
}

/** The newest such grade; a rejected one is not reused (the instructor said it was wrong). */
export async function findReusableResult(db: Db, q: { taskId: number; studentId: number; requestHash: string }): Promise<ReusableResult | undefined> {
  const rows = await db.execute<{
    id: number; attempt: number; model: string; result: Record<string, unknown>; score: number; max_score: number;
    model_confidence: number | null; computed_confidence: number | null; flags: AssessmentFlag[]; needs_review: boolean;
  }>(sql`
    select a.id, s.attempt, a.model, a.result, a.score, a.max_score, a.model_confidence, a.computed_confidence, a.flags, a.needs_review
    from queue_items q join assessments a on a.queue_item_id = q.id join submissions s on s.id = q.submission_id
    where q.task_id = ${q.taskId} and q.request_hash = ${q.requestHash} and s.student_id = ${q.studentId}
      and a.kind = 'llm' and a.result is not null and a.score is not null and a.review_status <> 'rejected'
    order by a.id desc limit 1`);
  const r = rows.rows[0];
  if (!r) return undefined;
  return {
    assessmentId: Number(r.id), attempt: r.attempt, model: r.model, result: r.result, score: Number(r.score), maxScore: Number(r.max_score),
    modelConfidence: r.model_confidence, computedConfidence: r.computed_confidence, flags: r.flags, needsReview: r.needs_review,
  };
}

/**
 * The reused grade as this attempt's own assessment: the earlier answer, no tokens, no cost, its own review.
 * The custom id says where it came from; it never matches a provider's result line (not `qi-…-a…`).
 */
export async function insertReusedAssessment(
  db: Db,
  item: { id: number; platformId: number; courseId: number; taskId: number; submissionId: number; promptVersionId: number },
  from: ReusableResult,
  releasedAt: Date | null,
): Promise<number> {
  const [row] = await db
    .insert(assessments)
    .values({
      kind: 'llm', platformId: item.platformId, courseId: item.courseId, taskId: item.taskId, submissionId: item.submissionId, queueItemId: item.id,
      customId: `reuse-${item.id}`, promptVersionId: item.promptVersionId, model: from.model, result: from.result, score: from.score, maxScore: from.maxScore,
      modelConfidence: from.modelConfidence, computedConfidence: from.computedConfidence, flags: from.flags, needsReview: from.needsReview, reusedFromId: from.assessmentId, releasedAt,
    })
    .returning({ id: assessments.id });
  return row!.id;
}
