import type { Config } from '../../config.js';
import { ContentDecryptionError, decryptContent } from '../../crypto/content.js';
import type { Db } from '../../db/db.js';
import { anonymize, personalizeResult, type Mapping } from '../../grading/anonymize-text.js';
import { findSubmissionContent, type SubmissionContentRow } from '../submissions/submissions.repository.js';
import { peopleToProtect, type PeopleToProtect } from '../submissions/submissions.service.js';
import { NotFound } from '../../errors.js';
import { releasedAssessmentOf } from './assessments.repository.js';
import { openText, textOwnerOf } from './assessment-texts.js';
import { gradebookScale } from '../tasks/column-maximum.service.js';

export interface FeedbackView {
  taskId: number;
  taskTitle: string;
  attempt: number;
  score: number;
  maxScore: number;
  /** The score as the LMS gradebook shows it, when its column has another maximum than the rubric (else null). */
  gradebook: { score: number; maxScore: number } | null;
  /**
   * Per criterion: the points that make the score. `changed`: the instructor gave other points than the model, whose
   * score (`modelScore`) and note are then shown as the AI's.
   */
  criteria: Array<{ id: string; name: string; maxPoints: number; score: number; justification: string | null; changed: boolean; modelScore: number | null }>;
  strengths: string[];
  improvements: string[];
  /** The model's comments (markdown); empty for work graded by hand. */
  comments: string;
  /** Who graded: the model alone (released by the task's policy), the model then the instructor, or the instructor by hand. */
  gradedBy: 'model' | 'reviewed' | 'hand';
  /** The instructor changed the overall score without points per criterion: the model's score they replaced. */
  overallChangedFrom: number | null;
  /** The model's score, when the instructor's differs (the AI's comments were written for it). */
  modelScore: number | null;
  /** The work as the student handed it in (null when removed or unreadable), and its file name. */
  work: { text: string | null; filename: string | null; format: 'text' | 'markdown' };
  /** The instructor's feedback with an override (markdown), if they wrote one. */
  instructorFeedback: string | null;
  /** Reviewed by the instructor (approved or overridden), or released before review by the task's policy. */
  reviewed: boolean;
  releasedAt: Date;
  /** When the written feedback was removed with the work (retention or a deletion request); the scores stay. */
  removedAt: Date | null;
  /** The earlier attempt, identical to this one, whose grading this one reuses (null: graded on its own). */
  reusedFromAttempt: number | null;
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
  const work = await workOf(db, config, who, found.task_id, submissionId);
  const r = { ...found, result: personalizeResult(found.result, work.mapping) };
  const llmCriteria = (r.result?.criteria ?? {}) as Record<string, { score?: number; justification?: string }>;
  const hand = r.kind === 'manual';
  const overridden = r.review_status === 'overridden';
  // Every criterion given by the instructor: the score is their sum. Otherwise (an older override, or the overall
  // score changed alone) the points shown are the model's, and the page says so.
  const byCriteria = overridden && r.rubric.length > 0 && r.rubric.every((c) => r.override_criteria?.[c.id] !== undefined);
  const modelScoreOf = (id: string) => (typeof llmCriteria[id]?.score === 'number' ? llmCriteria[id]!.score! : null);
  return {
    taskId: Number(r.task_id),
    taskTitle: r.task_title,
    attempt: r.attempt,
    score: Number(score),
    maxScore: Number(r.max_score),
    gradebook: Number(r.task_max_score) === Number(r.max_score) ? null : { score: gradebookScale(Number(score), Number(r.max_score), Number(r.task_max_score)), maxScore: Number(r.task_max_score) },
    criteria: (hand && !byCriteria ? [] : r.rubric).map((c) => {
      const modelScore = hand ? null : modelScoreOf(c.id);
      const score = byCriteria ? r.override_criteria![c.id]! : (modelScore ?? 0);
      return {
        id: c.id,
        name: c.name,
        maxPoints: c.maxPoints,
        score,
        justification: typeof llmCriteria[c.id]?.justification === 'string' ? llmCriteria[c.id]!.justification! : null,
        changed: byCriteria && !hand && modelScore !== score,
        modelScore,
      };
    }),
    strengths: strings(r.result?.strengths),
    improvements: strings(r.result?.improvements),
    comments: typeof r.result?.comments === 'string' ? r.result.comments : '',
    instructorFeedback: r.review_status === 'overridden' && r.override_feedback ? openText(config.encryptionKey, textOwnerOf(r), 'override_feedback', r.override_feedback) : null,
    reviewed: r.review_status !== 'pending_review',
    gradedBy: hand ? 'hand' : r.review_status === 'pending_review' ? 'model' : 'reviewed',
    overallChangedFrom: overridden && !hand && !byCriteria && r.score != null ? Number(r.score) : null,
    modelScore: overridden && !hand && r.score != null && Number(r.score) !== Number(score) ? Number(r.score) : null,
    work: { text: work.text, filename: r.purged_at ? null : work.filename, format: work.format },
    releasedAt: new Date(r.released_at),
    removedAt: r.purged_at ? new Date(r.purged_at) : null,
    reusedFromAttempt: r.reused_from_attempt == null ? null : Number(r.reused_from_attempt),
  };
}

/**
 * The student's own work (decrypted) and the placeholders of its text as sent with what they stand for, made again
 * from the stored text and the course's people (anonymization is deterministic); empty when the text is gone
 * (retention) or unreadable.
 */
async function workOf(
  db: Db,
  config: Pick<Config, 'encryptionKey'>,
  who: { courseId: number; studentId: number },
  taskId: number,
  submissionId: number,
  protect?: (studentId: number) => Promise<PeopleToProtect>,
): Promise<{ text: string | null; filename: string | null; format: 'text' | 'markdown'; mapping: Mapping }> {
  const row = await findSubmissionContent(db, submissionId);
  const none = { text: null, filename: row?.original_filename ?? null, format: row?.content_format ?? 'text', mapping: {} };
  if (!row || Number(row.student_id) !== who.studentId) return none;
  const text = ownText(config, row, taskId, who.studentId);
  if (text === null) return none;
  const people = protect ? await protect(who.studentId) : await peopleToProtect(db, who.courseId, who.studentId);
  return { ...none, text, mapping: anonymize(text, people.author, people.roster).mapping };
}

/** A student's stored text, decrypted; null when it is gone (retention) or no configured key opens it. */
function ownText(config: Pick<Config, 'encryptionKey'>, row: SubmissionContentRow, taskId: number, studentId: number): string | null {
  if (!row.content) return null;
  try {
    return decryptContent(config.encryptionKey, row.content, { taskId: Number(taskId), studentId, attempt: row.attempt });
  } catch (err) {
    if (err instanceof ContentDecryptionError) return null;
    throw err;
  }
}

/** What a student handed in for one attempt: their own, in their course only (anything else is "not found"). */
export interface OwnWork {
  taskId: number;
  attempt: number;
  submittedAt: Date;
  text: string | null;
  filename: string | null;
  format: 'text' | 'markdown';
  removedAt: Date | null;
}

export async function studentWork(db: Db, who: { courseId: number; studentId: number }, submissionId: number, config: Pick<Config, 'encryptionKey'>): Promise<OwnWork> {
  const row = await findSubmissionContent(db, submissionId);
  if (!row || Number(row.student_id) !== who.studentId || Number(row.course_id) !== who.courseId) throw NotFound('The submission');
  const text = ownText(config, row, Number(row.task_id), who.studentId);
  return {
    taskId: Number(row.task_id),
    attempt: row.attempt,
    submittedAt: new Date(row.submitted_at),
    text,
    filename: row.purged_at ? null : row.original_filename,
    format: row.content_format,
    removedAt: row.purged_at ? new Date(row.purged_at) : null,
  };
}

/**
 * The model's comments on a student's work as their instructor reads them: the placeholders the model saw replaced by
 * what they stood for (needs the stored text; as written when it is gone).
 */
export async function commentsAsWritten(
  db: Db,
  config: Pick<Config, 'encryptionKey'>,
  who: { courseId: number; studentId: number },
  a: { taskId: number; submissionId: number; result: Record<string, unknown> | null },
  protect?: (studentId: number) => Promise<PeopleToProtect>,
): Promise<string | null> {
  if (!a.result || typeof a.result.comments !== 'string') return null;
  const { mapping } = await workOf(db, config, who, a.taskId, a.submissionId, protect);
  const personal = personalizeResult(a.result, mapping);
  return typeof personal?.comments === 'string' ? personal.comments : null;
}
