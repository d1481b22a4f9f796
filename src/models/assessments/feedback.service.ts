import { sql } from 'drizzle-orm';
import type { Db } from '../../db/db.js';
import { NotFound } from '../../errors.js';
import type { RubricCriterion } from '../../grading/rubric.js';
import { releasedToStudentSql } from './release.js';

export interface FeedbackView {
  taskId: number;
  taskTitle: string;
  attempt: number;
  score: number;
  maxScore: number;
  criteria: Array<{ id: string; name: string; maxPoints: number; score: number; justification: string | null }>;
  strengths: string[];
  improvements: string[];
  /** The model's comments (markdown). */
  comments: string;
  /** The instructor's feedback with an override (markdown), if they wrote one. */
  instructorFeedback: string | null;
  /** Reviewed by the instructor (approved or overridden), or released before review by the task's policy. */
  reviewed: boolean;
  /** The instructor changed the score without giving every criterion's points: those shown are the model's. */
  criteriaPartlyFromModel: boolean;
  releasedAt: Date;
}

type Row = {
  task_id: number;
  task_title: string;
  attempt: number;
  review_status: 'pending_review' | 'approved' | 'overridden';
  score: number | null;
  override_score: number | null;
  max_score: number;
  result: Record<string, unknown> | null;
  override_criteria: Record<string, number> | null;
  override_feedback: string | null;
  rubric: RubricCriterion[];
  released_at: Date;
};

const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);

/**
 * A student's feedback on one of their own submissions, once released (release.ts). Anything else — not released
 * yet, rejected, another student's, another course's, not existing — is the same "not found", so nothing leaks.
 */
export async function studentFeedback(db: Db, who: { courseId: number; studentId: number }, submissionId: number): Promise<FeedbackView> {
  const rows = await db.execute<Row>(sql`
    select s.task_id, t.title as task_title, s.attempt, a.review_status, a.score, a.override_score, a.max_score, a.result, a.override_criteria,
           a.override_feedback, pv.rubric, coalesce(a.released_at, a.created_at) as released_at
    from submissions s
    join tasks t on t.id = s.task_id
    join assessments a on a.submission_id = s.id
    join prompt_versions pv on pv.id = a.prompt_version_id
    where s.id = ${submissionId} and s.course_id = ${who.courseId} and s.student_id = ${who.studentId}
      and ${releasedToStudentSql('a', 't')}
    order by a.id desc limit 1`);
  const r = rows.rows[0];
  const score = r ? (r.review_status === 'overridden' ? r.override_score : r.score) : null;
  if (!r || score == null) throw NotFound('The feedback');
  const llmCriteria = (r.result?.criteria ?? {}) as Record<string, { score?: number; justification?: string }>;
  return {
    taskId: Number(r.task_id),
    taskTitle: r.task_title,
    attempt: r.attempt,
    score: Number(score),
    maxScore: Number(r.max_score),
    criteria: r.rubric.map((c) => ({
      id: c.id,
      name: c.name,
      maxPoints: c.maxPoints,
      score: r.override_criteria?.[c.id] ?? Number(llmCriteria[c.id]?.score ?? 0),
      justification: typeof llmCriteria[c.id]?.justification === 'string' ? llmCriteria[c.id]!.justification! : null,
    })),
    strengths: strings(r.result?.strengths),
    improvements: strings(r.result?.improvements),
    comments: typeof r.result?.comments === 'string' ? r.result.comments : '',
    instructorFeedback: r.review_status === 'overridden' && r.override_feedback ? r.override_feedback : null,
    reviewed: r.review_status !== 'pending_review',
    criteriaPartlyFromModel: r.review_status === 'overridden' && r.rubric.some((c) => r.override_criteria?.[c.id] === undefined),
    releasedAt: new Date(r.released_at),
  };
}
