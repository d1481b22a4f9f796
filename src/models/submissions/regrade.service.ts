import type { Config } from '../../config.js';
import { ContentDecryptionError, decryptContent } from '../../crypto/content.js';
import type { Db } from '../../db/db.js';
import { Conflict, Invalid, NotFound } from '../../errors.js';
import { recordAudit } from '../audit/audit.repository.js';
import { hasManualAssessment, insertManualAssessment } from '../assessments/assessments.repository.js';
import { getCoursePrivacy } from '../privacy/privacy.repository.js';
import { findActiveVersion } from '../prompts/prompts.repository.js';
import { countWaitingItemsOf, latestQueueItemOf } from '../queue/queue.repository.js';
import { raiseToHighPriority } from '../tasks/task-progress.repository.js';
import { findTaskInCourse } from '../tasks/tasks.repository.js';
import { prepareGrading, queueForGrading } from './submissions.service.js';
import { versionForSubmission } from '../prompts/ab-tests.service.js';
import { findSubmissionContent } from './submissions.repository.js';

/**
 * What an instructor can do about work the LLM did not grade: queue it again, take it to grade by hand, or ask the
 * administrator to grade waiting work first. Each is checked against the course, changes nothing when refused, and
 * is audited. Run in a transaction.
 */
export interface CourseStaff {
  platformId: number;
  courseId: number;
  userId: number;
}

type RegradeConfig = Pick<Config, 'encryptionKey'> & { batches: Pick<Config['batches'], 'maxAttempts'> };

/** The submission, of this course (and task, when given), or "not found". */
async function submissionInCourse(db: Db, courseId: number, submissionId: number, taskId?: number) {
  const s = await findSubmissionContent(db, submissionId);
  if (!s || Number(s.course_id) !== courseId || (taskId !== undefined && Number(s.task_id) !== taskId)) throw NotFound('The submission');
  return s;
}

/**
 * A new queue item for a submission, with the task's active prompt and a fresh estimate of what will be sent. Refused
 * when the work is already waiting, the task has no prompt, or the text is gone or unreadable.
 */
export async function queueSubmissionAgain(db: Db, config: RegradeConfig, who: Omit<CourseStaff, 'userId'>, submissionId: number, note: string): Promise<number> {
  const s = await submissionInCourse(db, who.courseId, submissionId);
  const taskId = Number(s.task_id);
  const task = await findTaskInCourse(db, who.courseId, taskId);
  const version = task ? await findActiveVersion(db, task.id) : undefined;
  if (!task || !version) throw Conflict('This task has no active grading prompt, so the work cannot be graded again. Grade it by hand instead.');
  if (!s.content) throw Conflict('The text of this submission was deleted (retention), so it cannot be graded again. Grade it by hand instead.');
  let text: string;
  try {
    text = decryptContent(config.encryptionKey, s.content, { taskId, studentId: Number(s.student_id), attempt: s.attempt });
  } catch (err) {
    if (err instanceof ContentDecryptionError) throw Conflict('The text of this submission cannot be read, so it cannot be graded again. Grade it by hand instead.');
    throw err;
  }
  if ((await countWaitingItemsOf(db, submissionId)) > 0) throw Conflict('This submission is already waiting in the queue.');
  const privacy = await getCoursePrivacy(db, who.courseId);
  if (!privacy.llmAllowed) throw Conflict('LLM assessment is off for this course, so the work cannot be queued. Grade it by hand instead.');
  // While an A/B test runs, the submission stays in its arm (the same hash gives the same version).
  const chosen = await versionForSubmission(db, task.id, version, submissionId);
  const { estimate, requestHash } = await prepareGrading(db, { task, version: chosen.version, text, studentId: Number(s.student_id), anonymize: privacy.anonymize, originalFilename: s.original_filename }, `The active prompt uses a model llm-assess has no price for (${chosen.version.model}).`);
  const item = await queueForGrading(db, config, who, { task, version: chosen.version, submissionId, estimate, adminNotes: note, abTestId: chosen.abTestId, requestHash });
  return item.id;
}

/** Only work whose latest grading failed or was taken out of the queue is retried or taken by hand from the task page. */
async function requireStuck(db: Db, submissionId: number): Promise<void> {
  if (await hasManualAssessment(db, submissionId)) throw Conflict('This submission is already waiting to be graded by hand (in Review).');
  const latest = await latestQueueItemOf(db, submissionId);
  if (!latest || (latest.status !== 'failed' && latest.status !== 'skipped')) {
    throw Conflict('Only work whose grading failed or was taken out of the queue can be retried or graded by hand from here.');
  }
}

/** "Retry": a failed or removed attempt goes back to the LLM queue. */
export async function retryGrading(db: Db, config: RegradeConfig, who: CourseStaff, taskId: number, submissionId: number): Promise<number> {
  await submissionInCourse(db, who.courseId, submissionId, taskId);
  await requireStuck(db, submissionId);
  const queueItemId = await queueSubmissionAgain(db, config, who, submissionId, 'Retried by the instructor from the task page.');
  await recordAudit(db, { platformId: who.platformId, courseId: who.courseId, actorId: who.userId, actorKind: 'user', action: 'submission.retried', entityType: 'submission', entityId: submissionId, details: { taskId, queueItemId } });
  return queueItemId;
}

/** "Grade by hand": a failed or removed attempt becomes a manual assessment on the review page. */
export async function takeToGradeByHand(db: Db, who: CourseStaff, taskId: number, submissionId: number): Promise<number> {
  await submissionInCourse(db, who.courseId, submissionId, taskId);
  await requireStuck(db, submissionId);
  const task = (await findTaskInCourse(db, who.courseId, taskId))!;
  const version = await findActiveVersion(db, taskId);
  const assessmentId = await insertManualAssessment(db, {
    platformId: who.platformId,
    courseId: who.courseId,
    taskId,
    submissionId,
    promptVersionId: version?.id ?? null,
    maxScore: version?.maxScore ?? task.maxScore,
    note: 'The LLM could not grade it; the instructor took it to grade by hand.',
  });
  await recordAudit(db, { platformId: who.platformId, courseId: who.courseId, actorId: who.userId, actorKind: 'user', action: 'submission.taken_by_hand', entityType: 'submission', entityId: submissionId, details: { taskId, assessmentId } });
  return assessmentId;
}

/**
 * "Grade now": the task's waiting work (all of it, or the chosen submissions') goes to the front of the
 * administrator's queue (high priority, with a note saying who asked). Returns how many items moved.
 */
export async function requestGradeNow(db: Db, who: CourseStaff, taskId: number, submissionIds: number[] | null): Promise<number> {
  if (!(await findTaskInCourse(db, who.courseId, taskId))) throw NotFound('The task');
  if (submissionIds && !submissionIds.length) throw Invalid({ submissionIds: 'Choose the work to grade first.' });
  const moved = await raiseToHighPriority(db, who.courseId, taskId, submissionIds, `The instructor asked for this to be graded first (${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC).`);
  if (moved === 0) throw Conflict('Nothing of this task is waiting at normal priority: it is graded already, in a batch, or asked for before.');
  await recordAudit(db, { platformId: who.platformId, courseId: who.courseId, actorId: who.userId, actorKind: 'user', action: 'queue.grade_now_requested', entityType: 'task', entityId: taskId, details: { items: moved, submissionIds } });
  return moved;
}
