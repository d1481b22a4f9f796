import type { Config } from '../../config.js';
import { ContentDecryptionError, decryptContent } from '../../crypto/content.js';
import type { Db } from '../../db/db.js';
import { anonymize, personalizeResult, type Mapping } from '../../grading/anonymize-text.js';
import { findSubmissionContent } from '../submissions/submissions.repository.js';
import { peopleToProtect } from '../submissions/submissions.service.js';
import { NotFound } from '../../errors.js';
import { releasedAssessmentOf } from './assessments.repository.js';
import { openText } from './assessment-texts.js';
import { gradebookScale } from '../tasks/column-maximum.service.js';

export interface FeedbackView {
  taskId: number;
  taskTitle: string;
  attempt: number;
  score: number;
  maxScore: number;
  /** The score as the LMS gradebook shows it, when its column has another maximum than the rubric (else null). */
  gradebook: { score: number; maxScore: number } | null;
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
  /** When the written feedback was removed with the work (retention or a deletion request); the scores stay. */
  removedAt: Date | null;
}

const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);

/**
 * A student's feedback on one of their own submissions, once released (release.ts). Anything else — not released
 * yet, rejected, another student's, another course's, not existing — is the same "not found", so nothing leaks.
 */
export async function studentFeedback(
  db: Db,
  who: { courseId: number; studentId: number },
  submissionId: number,
  config: Pick<Config, 'encryptionKey'>,
): Promise<FeedbackView> {
  const found = await releasedAssessmentOf(db, who, submissionId);
  const score = found ? (found.review_status === 'overridden' ? found.override_score : found.score) : null;
  if (!found || score == null) throw NotFound('The feedback');
  // The model saw placeholders ([student], [classmate 1]…); the student reads the names they wrote (needs the key).
  const r = { ...found, result: personalizeResult(found.result, await mappingOf(db, config, who, found.task_id, submissionId)) };
  const llmCriteria = (r.result?.criteria ?? {}) as Record<string, { score?: number; justification?: string }>;
  return {
    taskId: Number(r.task_id),
    taskTitle: r.task_title,
    attempt: r.attempt,
    score: Number(score),
    maxScore: Number(r.max_score),
    gradebook: Number(r.task_max_score) === Number(r.max_score) ? null : { score: gradebookScale(Number(score), Number(r.max_score), Number(r.task_max_score)), maxScore: Number(r.task_max_score) },
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
    instructorFeedback: r.review_status === 'overridden' && r.override_feedback ? openText(config.encryptionKey, Number(r.queue_item_id), 'override_feedback', r.override_feedback) : null,
    reviewed: r.review_status !== 'pending_review',
    criteriaPartlyFromModel: r.review_status === 'overridden' && r.rubric.some((c) => r.override_criteria?.[c.id] === undefined),
    releasedAt: new Date(r.released_at),
    removedAt: r.purged_at ? new Date(r.purged_at) : null,
  };
}

/**
 * The placeholders of a submission's text as sent and what they stand for, made again from the stored text and the
 * course's people (anonymization is deterministic); empty when the text is gone (retention) or unreadable.
 */
async function mappingOf(db: Db, config: Pick<Config, 'encryptionKey'>, who: { courseId: number; studentId: number }, taskId: number, submissionId: number): Promise<Mapping> {
  const row = await findSubmissionContent(db, submissionId);
  if (!row?.content || Number(row.student_id) !== who.studentId) return {};
  let text: string;
  try {
    text = decryptContent(config.encryptionKey, row.content, { taskId: Number(taskId), studentId: who.studentId, attempt: row.attempt });
  } catch (err) {
    if (err instanceof ContentDecryptionError) return {};
    throw err;
  }
  const people = await peopleToProtect(db, who.courseId, who.studentId);
  return anonymize(text, people.author, people.roster).mapping;
}
