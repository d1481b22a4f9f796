import type { Config } from '../../config.js';
import { notifyFeedbackReady, notifyQueued } from '../notifications/notices.service.js';
import { contentHmac, encryptContent } from '../../crypto/content.js';
import type { Db } from '../../db/db.js';
import { Conflict, Invalid, NotFound } from '../../errors.js';
import { customIdFor, estimateRequest, UnknownModelError, type RequestEstimate } from '../../providers/index.js';
import { recordAudit } from '../audit/audit.repository.js';
import { gradingRequestFor } from '../../grading/request.js';
import { requestHashOf } from '../../grading/request-hash.js';
import { versionForSubmission } from '../prompts/ab-tests.service.js';
import { releasedToStudent } from '../assessments/release.js';
import { findReusableResult, insertReusedAssessment } from './reuse.repository.js';
import { compileRoster, sendableText, type Person, type Roster } from '../../grading/anonymize-text.js';
import { getCoursePrivacy } from '../privacy/privacy.repository.js';
import { hasCurrentConsent, requireConsent } from '../privacy/consent.service.js';
import { insertManualAssessment } from '../assessments/assessments.repository.js';
import { findActiveVersion, type PromptVersionRow } from '../prompts/prompts.repository.js';
import { startRealtimeOnly } from '../escalation/escalation.service.js';
import { insertQueueItem, PRIORITY_RANK, type QueueItemRow } from '../queue/queue.repository.js';
import { findTaskInCourse, type TaskRow } from '../tasks/tasks.repository.js';
import { findIdentity } from '../tenancy/people.repository.js';
import { courseMembers } from '../tenancy/roster.repository.js';
import { meanOutputTokensOfVersion } from '../assessments/assessments.repository.js';
import { languageOfFile } from '../../grading/code-language.js';
import { parseSubmission, submissionLimitsOf, type SubmissionLimitsConfig, type UploadedFile } from './submission-input.js';
import { insertSubmission, lastAttempt, lockStudentTask, type SubmissionRow } from './submissions.repository.js';

export type SubmitConfig = Pick<Config, 'encryptionKey'> & SubmissionLimitsConfig & { batches: Pick<Config['batches'], 'maxAttempts' | 'minSize'> };

export interface Submitter {
  platformId: number;
  courseId: number;
  userId: number;
}

export interface SubmitResult {
  submission: SubmissionRow;
  /** The queue item of work graded by the LLM; null for work handed in to be graded by hand. */
  queueItem: QueueItemRow | null;
  /** Why the work is graded by hand (null: by the LLM). */
  byHand: string | null;
  late: boolean;
  /** A real-time-only course's request to grade it now: the caller enqueues `grade-realtime` after the commit. */
  realtimeRequestId: number | null;
  /** The earlier assessment whose grade this attempt reuses (identical request): nothing was queued or charged. */
  reusedFrom: number | null;
}

/** How an attempt is graded: by the LLM with the task's active prompt, or by the instructor by hand (and why). */
type GradingPath = { by: 'llm'; version: PromptVersionRow } | { by: 'hand'; why: string; version: PromptVersionRow | undefined };

/**
 * LLM assessment off for the course, or a student who has not consented and asks for it: the work is still taken
 * and graded by hand. Consent given now (the box ticked) is recorded. A student who neither consents nor asks for
 * grading by hand is asked to choose.
 */
async function gradingPathOf(db: Db, who: Submitter, task: TaskRow, body: unknown): Promise<GradingPath> {
  const privacy = await getCoursePrivacy(db, who.courseId);
  const version = await findActiveVersion(db, task.id);
  if (!privacy.llmAllowed) return { by: 'hand', why: 'LLM assessment is off for this course.', version };
  const form = (body ?? {}) as { consent?: unknown; grading?: unknown };
  if (privacy.consentRequired && form.grading === 'hand' && !(await hasCurrentConsent(db, who))) {
    return { by: 'hand', why: 'The student asked to be graded by hand rather than by an LLM.', version };
  }
  if (privacy.consentRequired) {
    await requireConsent(db, { platformId: who.platformId, courseId: who.courseId, userId: who.userId }, form.consent === 'on' || form.consent === 'true' || form.consent === true);
  }
  if (!version) throw Conflict('This task has no grading prompt yet, so it cannot take submissions. Your instructor must write one first.');
  return { by: 'llm', version };
}

/** Past the due date: refused when the task says so, else taken and marked late. */
function lateness(task: TaskRow, now: Date): boolean {
  if (!task.dueAt || now <= task.dueAt) return false;
  if (task.latePolicy === 'refuse') throw Conflict(`This task was due on ${task.dueAt.toISOString().slice(0, 16).replace('T', ' ')} UTC and takes no late work. Ask your instructor.`);
  return true;
}

/** Whose identities a student's text must not carry: the student, and everyone of the course (roster and launches). */
export interface PeopleToProtect {
  author: Person;
  roster: Roster;
}

export async function peopleToProtect(db: Db, courseId: number, studentId: number): Promise<PeopleToProtect> {
  return (await courseProtection(db, courseId))(studentId);
}

/** The course's people read and its roster compiled once, for many of its students' texts (an export). */
export async function courseProtection(db: Db, courseId: number): Promise<(studentId: number) => Promise<PeopleToProtect>> {
  const members = await courseMembers(db, [courseId]);
  const roster = compileRoster(members);
  return async (studentId) => ({ author: members.find((m) => m.userId === studentId) ?? (await findIdentity(db, studentId)), roster });
}

/**
 * What grading this text with this version should cost, made from exactly what will be sent: anonymized when the
 * course asks (as it is again at send time), priced at the batch price with the version's observed mean output; and
 * the hash of that request (request-hash.ts). A model without a price is refused with `unknownModel` (409).
 */
export async function prepareGrading(
  db: Db,
  input: { task: TaskRow; version: PromptVersionRow; text: string; studentId: number; anonymize: boolean; originalFilename: string | null },
  unknownModel: string,
): Promise<{ estimate: RequestEstimate; requestHash: string }> {
  const { task, version } = input;
  // Anonymized as the send step will (batch-send.service.ts), with the same people, so the count is of what is sent.
  const text = input.anonymize ? sendableText(input.text, await peopleToProtect(db, task.courseId, input.studentId), true).text : input.text;
  // The language of a source-code file is part of the request, as the send step builds it (batch-send.service.ts).
  const language = languageOfFile(input.originalFilename);
  const request = gradingRequestFor({ version, task }, text, customIdFor(1, 1), language);
  const requestHash = requestHashOf({ promptVersionId: version.id, model: version.model, language, text });
  try {
    return { estimate: estimateRequest(request, 'batch', { observedMean: await meanOutputTokensOfVersion(db, version.id), criteria: version.rubric.length }), requestHash };
  } catch (err) {
    if (err instanceof UnknownModelError) throw Conflict(unknownModel);
    throw err;
  }
}

/** A submission's queue item: its prompt version and estimate, normal priority, the configured sends. */
export function queueForGrading(
  db: Db,
  config: { batches: Pick<Config['batches'], 'maxAttempts'> },
  who: Pick<Submitter, 'platformId' | 'courseId'>,
  input: { task: TaskRow; version: PromptVersionRow; submissionId: number; estimate: RequestEstimate; adminNotes?: string; abTestId?: number | null; requestHash?: string; completed?: boolean },
): Promise<QueueItemRow> {
  return insertQueueItem(db, {
    platformId: who.platformId,
    courseId: who.courseId,
    taskId: input.task.id,
    submissionId: input.submissionId,
    promptVersionId: input.version.id,
    priority: 'normal',
    priorityRank: PRIORITY_RANK.normal,
    model: input.version.model,
    estInputTokens: input.estimate.inputTokens,
    estOutputTokens: input.estimate.outputTokens,
    estCostMicros: input.estimate.costMicros,
    maxAttempts: config.batches.maxAttempts,
    ...(input.adminNotes === undefined ? {} : { adminNotes: input.adminNotes }),
    abTestId: input.abTestId ?? null,
    requestHash: input.requestHash ?? null,
    // A reused result: the item is done the moment it is made, and never selected into a batch.
    ...(input.completed ? { status: 'completed' as const, completedAt: new Date() } : {}),
  });
}

/** The number of the student's next attempt, under a lock on their work for the task; refused when none is left. */
async function nextAttempt(db: Db, task: TaskRow, studentId: number): Promise<number> {
  await lockStudentTask(db, task.id, studentId);
  const previous = await lastAttempt(db, task.id, studentId);
  if (previous >= task.maxAttempts) {
    throw Conflict(task.maxAttempts === 1 ? 'You have already submitted this task; it allows one attempt.' : `You have used all ${task.maxAttempts} attempts for this task.`);
  }
  return previous + 1;
}

/**
 * A student submits work for a task: refused when the task is closed (past its due date and taking no late work,
 * no prompt while LLM assessment is on, no attempt left). The text is stored encrypted. Work the LLM grades gets a
 * queue item with the exact prompt version, priority normal, the exact input tokens of what will be sent (anonymized
 * when the course asks) and the estimated cost at the batch price; work graded by hand gets a manual assessment
 * waiting for the instructor. Nothing waits for a model. Run in a transaction.
 */
export async function submitWork(
  db: Db,
  config: SubmitConfig,
  who: Submitter,
  taskId: number,
  input: { body: unknown; file?: UploadedFile },
  now = new Date(),
): Promise<SubmitResult> {
  const task = await findTaskInCourse(db, who.courseId, taskId);
  if (!task || task.status !== 'active') throw NotFound('The task');
  const late = lateness(task, now);
  const path = await gradingPathOf(db, who, task, input.body);

  const parsed = await parseSubmission(input.body, input.file, submissionLimitsOf(config));
  if (!parsed.ok) throw Invalid(parsed.fields);
  const { text, format, originalFilename } = parsed.value;

  const attempt = await nextAttempt(db, task, who.userId);
  const { anonymize, realtimeOnly } = await getCoursePrivacy(db, who.courseId);
  const submission = await insertSubmission(db, {
    taskId: task.id,
    courseId: who.courseId,
    studentId: who.userId,
    attempt,
    content: encryptContent(config.encryptionKey, text, { taskId: task.id, studentId: who.userId, attempt }),
    contentFormat: format,
    originalFilename,
    charCount: text.length,
    contentHmac: contentHmac(config.encryptionKey, text),
  });
  let llm: LlmGrading | null = null;
  let manualAssessmentId: number | null = null;
  if (path.by === 'llm') {
    llm = await queueOrReuse(db, config, who, { task, active: path.version, submissionId: submission.id, text, anonymize, realtimeOnly, originalFilename }, now);
  } else {
    manualAssessmentId = await insertManualAssessment(db, { platformId: who.platformId, courseId: who.courseId, taskId: task.id, submissionId: submission.id, promptVersionId: path.version?.id ?? null, maxScore: path.version?.maxScore ?? task.maxScore, note: path.why });
  }
  const queueItem = llm?.queueItem ?? null;
  const how = llm
    ? { queueItemId: llm.queueItem.id, promptVersionId: llm.queueItem.promptVersionId, estInputTokens: llm.queueItem.estInputTokens, estCostMicros: llm.queueItem.estCostMicros, anonymized: anonymize, abTestId: llm.queueItem.abTestId, reusedFromAssessmentId: llm.reusedFrom, ...(llm.realtimeRequestId ? { realtimeRequestId: llm.realtimeRequestId } : {}) }
    : { gradedByHand: path.by === 'hand' ? path.why : '', manualAssessmentId };
  await recordAudit(db, { platformId: who.platformId, courseId: who.courseId, actorId: who.userId, actorKind: 'user', action: 'submission.created', entityType: 'submission', entityId: submission.id, details: { taskId: task.id, attempt, chars: text.length, late, ...how } });
  return { submission, queueItem, byHand: path.by === 'hand' ? path.why : null, late, reusedFrom: llm?.reusedFrom ?? null, realtimeRequestId: llm?.realtimeRequestId ?? null };
}

interface LlmGrading {
  queueItem: QueueItemRow;
  /** The assessment whose grade was reused (null: queued for a batch). */
  reusedFrom: number | null;
  /** A real-time-only course's request to grade it now: the caller enqueues `grade-realtime` after the commit. */
  realtimeRequestId: number | null;
}

/**
 * Work the LLM grades: the version of its A/B arm when a test runs (else the active one), the request estimated and
 * hashed; an identical earlier request of the same student (same version, model and text as sent) lends its grade
 * to a queue item completed at once, with no batch and no charge — at temperature 0 the model would only say it
 * again, for money. Otherwise the item is queued and the student told, or, in a real-time-only course, graded now by a
 * worker after this commits (its work never waits for a batch).
 */
async function queueOrReuse(
  db: Db,
  config: SubmitConfig,
  who: Submitter,
  input: { task: TaskRow; active: PromptVersionRow; submissionId: number; text: string; anonymize: boolean; realtimeOnly: boolean; originalFilename: string | null },
  now: Date,
): Promise<LlmGrading> {
  const { task } = input;
  const { version, abTestId } = await versionForSubmission(db, task.id, input.active, input.submissionId);
  const unknown = `The grading prompt of this task uses a model llm-assess has no price for (${version.model}). Tell your instructor.`;
  const { estimate, requestHash } = await prepareGrading(db, { task, version, text: input.text, studentId: who.userId, anonymize: input.anonymize, originalFilename: input.originalFilename }, unknown);
  const earlier = await findReusableResult(db, { taskId: task.id, studentId: who.userId, requestHash });
  const queueItem = await queueForGrading(db, config, who, { task, version, submissionId: input.submissionId, estimate, abTestId, requestHash, completed: Boolean(earlier) });
  if (!earlier) {
    if (input.realtimeOnly) return { queueItem, reusedFrom: null, realtimeRequestId: await startRealtimeOnly(db, queueItem.id) };
    await notifyQueued(db, queueItem.id, config.batches.minSize, now);
    return { queueItem, reusedFrom: null, realtimeRequestId: null };
  }
  const released = releasedToStudent({ reviewStatus: 'pending_review', needsReview: earlier.needsReview, flagCount: earlier.flags.length, releasePolicy: task.releasePolicy, confidence: earlier.computedConfidence, minConfidence: task.autoReleaseMinConfidence });
  const assessmentId = await insertReusedAssessment(db, queueItem, earlier, released ? now : null);
  if (released) await notifyFeedbackReady(db, { assessmentIds: [assessmentId] });
  return { queueItem, reusedFrom: earlier.assessmentId, realtimeRequestId: null };
}
