import { sql, type SQL } from 'drizzle-orm';
import type { ReleasePolicy } from '../tasks/tasks.table.js';
import type { ReviewStatus } from './assessments.table.js';

/**
 * When a student may see the feedback of an assessment — the one rule, for every reader (the student's task page,
 * the feedback page, the instructor's "visible to the student" mark) and for ingestion, which stamps released_at.
 *
 * Approved or overridden: yes. Rejected: no. Waiting for review: only where the task releases feedback
 * immediately, and never when anything sent it to a human (a flag: suspected prompt injection, low confidence, a
 * clamped score, a malformed answer…), nor below the task's confidence threshold when it sets one. A flagged result
 * waits for the instructor whatever the policy says. Work to be graded by hand is never released before its grade
 * (it needs review).
 */
export interface ReleaseFacts {
  reviewStatus: ReviewStatus;
  needsReview: boolean;
  flagCount: number;
  releasePolicy: ReleasePolicy;
  /** The result's computed confidence (0–1), and the task's threshold for releasing without review (null: none). */
  confidence: number | null;
  minConfidence: number | null;
}

export function releasedToStudent(f: ReleaseFacts): boolean {
  if (f.reviewStatus === 'approved' || f.reviewStatus === 'overridden') return true;
  const confident = f.minConfidence == null || (f.confidence != null && f.confidence >= f.minConfidence);
  return f.reviewStatus === 'pending_review' && f.releasePolicy === 'immediately' && !f.needsReview && f.flagCount === 0 && confident;
}

/** The same rule in SQL, over an assessment and its task under the given aliases (constants, never input). */
export function releasedToStudentSql(assessment: 'a', task: 't'): SQL {
  const a = sql.raw(assessment);
  const t = sql.raw(task);
  return sql`(${a}.review_status in ('approved', 'overridden')
    or (${a}.review_status = 'pending_review' and ${t}.release_policy = 'immediately' and not ${a}.needs_review and jsonb_array_length(${a}.flags) = 0
        and (${t}.auto_release_min_confidence is null or coalesce(${a}.computed_confidence, 0) >= ${t}.auto_release_min_confidence)))`;
}
