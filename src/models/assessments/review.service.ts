import type { Config } from '../../config.js';
import type { Db } from '../../db/db.js';
import { INJECTION_FLAG } from '../../grading/injection.js';
import { Conflict, Invalid, NotFound } from '../../errors.js';
import { recordAudit } from '../audit/audit.repository.js';
import { notifyFeedbackReady } from '../notifications/notices.service.js';
import { findVersionById } from '../prompts/prompts.repository.js';
import type { RubricCriterion } from '../../grading/rubric.js';
import { queueSubmissionAgain } from '../submissions/regrade.service.js';
import type { AssessmentRow } from './review.repository.js';
import { applyDecision, listAssessmentsInCourse, lockAssessmentInCourse, requestSyncAgain } from './review.repository.js';
import type { ReviewStatus } from './assessments.table.js';
import type { OverrideInput, RejectInput } from './review.schema.js';
import { readableTexts, sealText } from './assessment-texts.js';

/** An instructor deciding, in the course they launched from. */
export interface Reviewer {
  platformId: number;
  courseId: number;
  userId: number;
}

const STATUS_WORDS: Record<ReviewStatus, string> = {
  pending_review: 'waiting for review',
  approved: 'approved',
  overridden: 'overridden',
  rejected: 'rejected',
};

/** Why a conditional decision applied nothing: gone, decided meanwhile, or not in a state that allows it. */
async function explainNoChange(db: Db, courseId: number, id: number, action: string, expectedSeq?: number): Promise<never> {
  const current = await lockAssessmentInCourse(db, courseId, id);
  if (!current) throw NotFound('The assessment');
  if (expectedSeq !== undefined && current.decisionSeq !== expectedSeq) {
    throw Conflict(`This assessment changed since the page was loaded (it is now ${STATUS_WORDS[current.reviewStatus]}). Nothing was ${action}; reload to see the current state.`);
  }
  throw Conflict(`This assessment is ${STATUS_WORDS[current.reviewStatus]}, so it cannot be ${action}.`);
}

function audit(db: Db, who: Reviewer, action: string, a: AssessmentRow, details: Record<string, unknown>) {
  return recordAudit(db, { platformId: who.platformId, courseId: who.courseId, actorId: who.userId, actorKind: 'user', action, entityType: 'assessment', entityId: a.id, details: { decisionSeq: a.decisionSeq, ...details } });
}

/** Approves the model's result as it stands. Run in a transaction. */
export async function approveAssessment(db: Db, who: Reviewer, id: number, expectedSeq: number | undefined): Promise<AssessmentRow> {
  const current = await lockAssessmentInCourse(db, who.courseId, id);
  if (!current) throw NotFound('The assessment');
  if (current.kind === 'manual') throw Conflict('This work is graded by hand: give it your score and comments.');
  if (current.reviewStatus === 'pending_review' && current.score == null) {
    throw Conflict('The model gave no usable score for this work, so there is nothing to approve: override it with your own score, or reject it.');
  }
  const row = await applyDecision(db, { courseId: who.courseId, id, from: ['pending_review'], expectedSeq }, { reviewStatus: 'approved', reviewedBy: who.userId, release: true, rejectedTo: null });
  if (!row) return explainNoChange(db, who.courseId, id, 'approved', expectedSeq);
  await audit(db, who, 'assessment.approved', row, { score: row.score, flags: row.flags.map((f) => f.code) });
  await notifyFeedbackReady(db, { assessmentIds: [row.id] });
  return row;
}

/** A grade given by hand: the score and, when given, every criterion's points (the score is then their sum). */
interface HandGrade {
  score: number;
  criteria: Record<string, number> | null;
}

const round2 = (n: number) => Math.round(n * 100) / 100;

/**
 * One rule for the score a person gives, so that the score, its criteria and the comments never disagree: either
 * every criterion gets its points and the score is their sum (typed or left empty), or no criterion is given and
 * the overall score changes alone (the student is told the per-criterion points are the model's, from before).
 */
export function handGradeOf(rubric: RubricCriterion[], maxScore: number, input: { score?: number; criteria?: OverrideInput['criteria'] }): { grade: HandGrade } | { fields: Record<string, string> } {
  const fields: Record<string, string> = {};
  if (input.score !== undefined && (input.score < 0 || input.score > maxScore)) fields.score = `The score must be from 0 to ${maxScore}.`;
  const criteria: Record<string, number> = {};
  for (const [key, value] of Object.entries(input.criteria ?? {})) {
    if (value === undefined) continue;
    const c = rubric.find((r) => r.id === key);
    if (!c) fields[`criteria.${key}`] = 'This criterion is not in the rubric.';
    else if (value < 0 || value > c.maxPoints) fields[`criteria.${key}`] = `From 0 to ${c.maxPoints}.`;
    else criteria[key] = value;
  }
  const given = Object.keys(criteria).length;
  if (given > 0 && given < rubric.length) {
    for (const c of rubric) if (criteria[c.id] === undefined && !fields[`criteria.${c.id}`]) fields[`criteria.${c.id}`] = 'Give every criterion its points, or leave them all empty to change only the overall score.';
  }
  if (Object.keys(fields).length) return { fields };
  if (given > 0) {
    const sum = round2(rubric.reduce((total, c) => total + criteria[c.id]!, 0));
    if (input.score !== undefined && Math.abs(input.score - sum) > 0.005) {
      return { fields: { score: `The criteria add up to ${sum}, and the score is their sum: leave the score empty (or enter ${sum}), or clear the criteria to change only the overall score.` } };
    }
    if (sum > maxScore) return { fields: { score: `The criteria add up to ${sum}, more than the maximum score of ${maxScore}.` } };
    return { grade: { score: sum, criteria } };
  }
  if (input.score === undefined) return { fields: { score: 'Enter the score you give.' } };
  return { grade: { score: input.score, criteria: null } };
}

/**
 * The instructor's own grade beside the model's, which stays unchanged for audit. Allowed on anything not sent
 * back to the LLM queue: a later override replaces an earlier decision and is synced again. The feedback and the
 * reason are stored encrypted (they may name the student or quote the work); the row returned has them readable. The
 * reason's category (too harsh, too lenient…) is stored plain: it is what the Agreement page counts.
 * Work handed in for manual grading (kind `manual`) is graded the same way, without a reason: there is no model's
 * grade to change.
 */
export async function overrideAssessment(db: Db, config: Pick<Config, 'encryptionKey'>, who: Reviewer, id: number, input: OverrideInput): Promise<AssessmentRow> {
  const current = await lockAssessmentInCourse(db, who.courseId, id);
  if (!current) throw NotFound('The assessment');
  const rubric: RubricCriterion[] = current.promptVersionId == null ? [] : ((await findVersionById(db, current.promptVersionId))?.rubric ?? []);
  const manual = current.kind === 'manual';

  const checked = handGradeOf(rubric, current.maxScore, input);
  const fields = 'fields' in checked ? { ...checked.fields } : {};
  if (!input.category && !manual) fields.category = 'Choose what was wrong with the model\'s grade: too harsh, too lenient, a missed criterion, misread work, off-topic feedback or other.';
  if (!input.reason && !manual) fields.reason = 'Say why you change the grade: it is kept with the original for audit.';
  if (Object.keys(fields).length || !('grade' in checked)) throw Invalid(fields);
  const { grade } = checked;
  if (current.reviewStatus === 'rejected' && current.rejectedTo === 'queue' && current.decisionSeq === input.decisionSeq) {
    throw Conflict('This work was sent back to the LLM queue; grade its new assessment instead.');
  }

  const row = await applyDecision(
    db,
    { courseId: who.courseId, id, from: ['pending_review', 'approved', 'overridden', 'rejected'], expectedSeq: input.decisionSeq },
    {
      reviewStatus: 'overridden',
      reviewedBy: who.userId,
      overrideScore: grade.score,
      overrideCriteria: grade.criteria,
      overrideFeedback: sealText(config.encryptionKey, current, 'override_feedback', input.feedback),
      overrideReason: sealText(config.encryptionKey, current, 'override_reason', input.reason ?? null),
      overrideCategory: manual ? null : (input.category ?? null),
      rejectedTo: null,
      release: true,
    },
  );
  if (!row) return explainNoChange(db, who.courseId, id, manual ? 'graded' : 'overridden', input.decisionSeq);
  await audit(db, who, manual ? 'assessment.graded_by_hand' : 'assessment.overridden', row, {
    from: current.reviewStatus,
    llmScore: current.score,
    previousOverride: current.overrideScore,
    score: row.overrideScore,
    criteria: grade.criteria ?? {},
    scoreOf: grade.criteria ? 'criteria' : 'overall',
    reasonGiven: Boolean(row.overrideReason),
    category: row.overrideCategory,
  });
  await notifyFeedbackReady(db, { assessmentIds: [row.id] });
  return readableTexts(config.encryptionKey, row);
}

/**
 * Rejects the model's result: back to the LLM queue (a new queue item, graded again with the task's active
 * prompt) or to the instructor for manual grading (then graded with an override). Run in a transaction.
 */
export async function rejectAssessment(db: Db, config: Pick<Config, 'encryptionKey'> & { batches: Pick<Config['batches'], 'maxAttempts'> }, who: Reviewer, id: number, input: RejectInput): Promise<AssessmentRow> {
  if (input.rejectTo === 'queue' && !input.note) throw Invalid({ note: 'Add a note for the queue: what should be different this time?' });
  const current = await lockAssessmentInCourse(db, who.courseId, id);
  if (!current) throw NotFound('The assessment');
  if (current.kind === 'manual') throw Conflict('This work is graded by hand, so there is no model result to reject: give it your score.');
  const row = await applyDecision(
    db,
    { courseId: who.courseId, id, from: ['pending_review'], expectedSeq: input.decisionSeq },
    { reviewStatus: 'rejected', reviewedBy: who.userId, reviewNote: input.note ?? null, rejectedTo: input.rejectTo, release: false },
  );
  if (!row) return explainNoChange(db, who.courseId, id, 'rejected', input.decisionSeq);
  let queueItemId: number | null = null;
  if (input.rejectTo === 'queue') queueItemId = await requeue(db, config, who, row, input.note!);
  await audit(db, who, 'assessment.rejected', row, { to: input.rejectTo, noteGiven: Boolean(input.note), queueItemId });
  return row;
}

/** A new queue item for the same submission, with the task's active prompt and a fresh estimate. */
function requeue(db: Db, config: Pick<Config, 'encryptionKey'> & { batches: Pick<Config['batches'], 'maxAttempts'> }, who: Reviewer, a: AssessmentRow, note: string): Promise<number> {
  return queueSubmissionAgain(db, config, who, a.submissionId, `Rejected by the instructor: ${note}`);
}

export interface BulkOutcome {
  approved: number[];
  /** Not approved, with why (decided meanwhile, no usable score, possible prompt injection). */
  skipped: Array<{ id: number; reason: string }>;
}

export const INJECTION_SKIP_REASON = 'possible prompt injection: open it and decide on its own';

/**
 * Suspected prompt injection is never approved in bulk, even confirmed: the model may have obeyed the student, and
 * only reading the submission shows it. The instructor decides on its own page (approve stays possible there).
 */
function needsOwnDecision(a: Pick<AssessmentRow, 'flags'>): boolean {
  return a.flags.some((f) => f.code === INJECTION_FLAG);
}

/**
 * Approves a selection. Flagged items in it need `confirmFlagged`: the instructor says they looked at them.
 * Items flagged for possible prompt injection are skipped with the reason, confirmed or not. Each approval is its
 * own conditional update, so a double submit approves nothing twice.
 */
export async function bulkApprove(db: Db, who: Reviewer, ids: number[], confirmFlagged: boolean): Promise<BulkOutcome> {
  const unique = [...new Set(ids)];
  if (!unique.length) throw Invalid({ ids: 'Select at least one assessment to approve.' }, 'Nothing was selected.');
  const rows = await listAssessmentsInCourse(db, who.courseId, unique);
  const flagged = rows.filter((r) => r.reviewStatus === 'pending_review' && (r.needsReview || r.flags.length > 0) && !needsOwnDecision(r));
  if (flagged.length && !confirmFlagged) {
    throw Invalid(
      { confirmFlagged: `${flagged.length} of the selected ${flagged.length === 1 ? 'assessment is' : 'assessments are'} flagged for review. Tick the confirmation to approve ${flagged.length === 1 ? 'it' : 'them'} too.` },
      'Flagged assessments need your explicit confirmation.',
    );
  }
  const outcome: BulkOutcome = { approved: [], skipped: [] };
  const found = new Set(rows.map((r) => r.id));
  for (const id of unique) {
    if (!found.has(id)) {
      outcome.skipped.push({ id, reason: 'not found in this course' });
      continue;
    }
    const r = rows.find((x) => x.id === id)!;
    if (r.reviewStatus === 'pending_review' && needsOwnDecision(r)) {
      outcome.skipped.push({ id, reason: INJECTION_SKIP_REASON });
      continue;
    }
    if (r.kind === 'manual') {
      outcome.skipped.push({ id, reason: 'graded by hand: give it your score on its own page' });
      continue;
    }
    if (r.score == null) {
      outcome.skipped.push({ id, reason: 'no usable score' });
      continue;
    }
    const row = await applyDecision(db, { courseId: who.courseId, id, from: ['pending_review'] }, { reviewStatus: 'approved', reviewedBy: who.userId, release: true, rejectedTo: null });
    if (!row) {
      outcome.skipped.push({ id, reason: 'already decided' });
      continue;
    }
    await audit(db, who, 'assessment.approved', row, { score: row.score, bulk: true, flags: row.flags.map((f) => f.code), confirmedFlagged: row.flags.length > 0 || row.needsReview });
    outcome.approved.push(id);
  }
  await notifyFeedbackReady(db, { assessmentIds: outcome.approved });
  return outcome;
}

/** "Retry sync": a failed grade passback becomes due again, with a fresh set of tries. */
export async function retryGradeSync(db: Db, who: Reviewer, id: number): Promise<AssessmentRow> {
  const row = await requestSyncAgain(db, who.courseId, id);
  if (!row) {
    const current = await lockAssessmentInCourse(db, who.courseId, id);
    if (!current) throw NotFound('The assessment');
    if (current.gradeSyncStatus === 'synced') throw Conflict('This grade is already in the LMS gradebook.');
    throw Conflict('Only an approved or overridden grade can be sent to the LMS gradebook.');
  }
  await audit(db, who, 'assessment.grade_sync_retried', row, {});
  return row;
}
