import type { Config } from '../../config.js';
import type { Db } from '../../db/db.js';
import { Conflict, Invalid, NotFound } from '../../errors.js';
import { recordAudit } from '../audit/audit.repository.js';
import { releasedAssessmentOf } from '../assessments/assessments.repository.js';
import { overrideAssessment, type Reviewer } from '../assessments/review.service.js';
import type { AssessmentRow } from '../assessments/review.repository.js';
import type { OverrideInput } from '../assessments/review.schema.js';
import { insertAppeal, lockAppealOfAssessment, resolveAppeal, type AppealRow } from './appeals.repository.js';
import type { AppealInput, AppealResolutionInput } from './appeals.schema.js';

/**
 * Appeals (seed phase 3): a student may appeal a released result once per attempt, with a reason; the instructor
 * sees appeals first in review and answers each: the result upheld, or the grade changed (an override, passed back
 * to the gradebook like any other), always with a reply the student reads. Everything is audited.
 */

export interface AppealingStudent {
  platformId: number;
  courseId: number;
  studentId: number;
}

/** The student's appeal of their own released result. Anything not released to them is "not found". Run in a transaction. */
export async function appealResult(db: Db, who: AppealingStudent, submissionId: number, input: AppealInput): Promise<AppealRow> {
  const released = await releasedAssessmentOf(db, { courseId: who.courseId, studentId: who.studentId }, submissionId);
  if (!released) throw NotFound('The feedback');
  const appeal = await insertAppeal(db, {
    platformId: who.platformId,
    courseId: who.courseId,
    taskId: Number(released.task_id),
    submissionId,
    assessmentId: Number(released.id),
    studentId: who.studentId,
    reason: input.reason,
  });
  if (!appeal) throw Conflict('You have already appealed this attempt; each attempt can be appealed once.');
  await recordAudit(db, { platformId: who.platformId, courseId: who.courseId, actorId: who.studentId, actorKind: 'user', action: 'appeal.created', entityType: 'appeal', entityId: appeal.id, details: { submissionId, assessmentId: appeal.assessmentId } });
  return appeal;
}

/**
 * The instructor's answer to an open appeal of this assessment: uphold (the grade stays) or change (the new grade
 * as an override takes it: every criterion or the overall score; the reply becomes the instructor's feedback).
 * Returns the assessment as it now stands. Run in a transaction.
 */
export async function answerAppeal(
  db: Db,
  config: Pick<Config, 'encryptionKey'>,
  who: Reviewer,
  assessmentId: number,
  input: AppealResolutionInput,
  grade: OverrideInput | undefined,
): Promise<{ appeal: AppealRow; assessment: AssessmentRow | null }> {
  const appeal = await lockAppealOfAssessment(db, who.courseId, assessmentId);
  if (!appeal) throw NotFound('The appeal');
  if (appeal.status !== 'open') throw Conflict('This appeal was already answered.');
  let assessment: AssessmentRow | null = null;
  if (input.outcome === 'change') {
    if (!grade) throw Invalid({ score: 'Give the new grade.' });
    assessment = await overrideAssessment(db, config, who, assessmentId, { ...grade, feedback: input.reply, reason: `Changed on appeal: ${input.reply}`.slice(0, 2000) });
  }
  const resolved = await resolveAppeal(db, appeal.id, { status: input.outcome === 'change' ? 'changed' : 'upheld', reply: input.reply, resolvedBy: who.userId });
  if (!resolved) throw Conflict('This appeal was already answered.');
  await recordAudit(db, {
    platformId: who.platformId,
    courseId: who.courseId,
    actorId: who.userId,
    actorKind: 'user',
    action: 'appeal.resolved',
    entityType: 'appeal',
    entityId: appeal.id,
    details: { assessmentId, outcome: resolved.status, score: assessment?.overrideScore ?? null },
  });
  return { appeal: resolved, assessment };
}
