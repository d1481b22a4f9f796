import type { Config } from '../../config.js';
import { contentHmac, encryptContent } from '../../crypto/content.js';
import type { Db } from '../../db/db.js';
import { Conflict, Invalid, NotFound } from '../../errors.js';
import { customIdFor, estimateRequest, UnknownModelError, type RequestEstimate } from '../../providers/index.js';
import { recordAudit } from '../audit/audit.repository.js';
import { gradingRequestFor } from '../../grading/request.js';
import { compileRoster, sendableText, type Person, type Roster } from '../../grading/anonymize-text.js';
import { getCoursePrivacy } from '../privacy/privacy.repository.js';
import { requireConsent } from '../privacy/consent.service.js';
import { findActiveVersion, type PromptVersionRow } from '../prompts/prompts.repository.js';
import { insertQueueItem, PRIORITY_RANK, type QueueItemRow } from '../queue/queue.repository.js';
import { findTaskInCourse, type TaskRow } from '../tasks/tasks.repository.js';
import { findIdentity } from '../tenancy/people.repository.js';
import { courseMembers } from '../tenancy/roster.repository.js';
import { meanOutputTokensOfVersion } from '../assessments/assessments.repository.js';
import { parseSubmission, type UploadedFile } from './submission-input.js';
import { insertSubmission, lastAttempt, lockStudentTask, type SubmissionRow } from './submissions.repository.js';

export type SubmitConfig = Pick<Config, 'encryptionKey' | 'submissionMaxChars' | 'submissionMaxFileBytes'> & { batches: Pick<Config['batches'], 'maxAttempts'> };

export interface Submitter {
  platformId: number;
  courseId: number;
  userId: number;
}

export interface SubmitResult {
  submission: SubmissionRow;
  queueItem: QueueItemRow;
}

/**
 * What grading this text with this version should cost, made from exactly what will be sent: anonymized when the
 * course asks (as it is again at send time), priced at the batch price with the version's observed mean output.
 * A model without a price is refused with `unknownModel`, before anything is written.
 */
/** Whose identities a student's text must not carry: the student, and everyone of the course (roster and launches). */
export interface PeopleToProtect {
  author: Person;
  roster: Roster;
}

export async function peopleToProtect(db: Db, courseId: number, studentId: number): Promise<PeopleToProtect> {
  const members = await courseMembers(db, [courseId]);
  const author = members.find((m) => m.userId === studentId) ?? (await findIdentity(db, studentId));
  return { author, roster: compileRoster(members) };
}

export async function estimateGrading(
  db: Db,
  input: { task: TaskRow; version: PromptVersionRow; text: string; studentId: number; anonymize: boolean },
  unknownModel: string,
): Promise<RequestEstimate> {
  const { task, version } = input;
  // Anonymized as the send step will (batch-send.service.ts), with the same people, so the count is of what is sent.
  const text = input.anonymize ? sendableText(input.text, await peopleToProtect(db, task.courseId, input.studentId), true).text : input.text;
  const request = gradingRequestFor({ version, task }, text, customIdFor(1, 1));
  try {
    return estimateRequest(request, 'batch', { observedMean: await meanOutputTokensOfVersion(db, version.id), criteria: version.rubric.length });
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
  input: { task: TaskRow; version: PromptVersionRow; submissionId: number; estimate: RequestEstimate; adminNotes?: string },
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
  });
}

/**
 * A student submits work for a task: refused unless the course allows LLM assessment, the task has an active
 * prompt and an attempt is left. On success the text is stored encrypted and a queue item is created with the
 * exact prompt version, priority normal, the exact input tokens of what will be sent (anonymized when the
 * course asks) and the estimated cost at the batch price. Nothing waits for a model. Run in a transaction.
 */
export async function submitWork(
  db: Db,
  config: SubmitConfig,
  who: Submitter,
  taskId: number,
  input: { body: unknown; file?: UploadedFile },
): Promise<SubmitResult> {
  const task = await findTaskInCourse(db, who.courseId, taskId);
  if (!task || task.status !== 'active') throw NotFound('The task');
  const privacy = await getCoursePrivacy(db, who.courseId);
  if (!privacy.llmAllowed) {
    throw Conflict('Your instructor has not allowed LLM assessment in this course, so work cannot be submitted here yet. Ask your instructor, or hand your work in another way.');
  }
  if (privacy.consentRequired) {
    const consent = (input.body as { consent?: unknown } | undefined)?.consent;
    await requireConsent(db, { platformId: who.platformId, courseId: who.courseId, userId: who.userId }, consent === 'on' || consent === 'true' || consent === true);
  }
  const version = await findActiveVersion(db, task.id);
  if (!version) throw Conflict('This task has no grading prompt yet, so it cannot take submissions. Your instructor must write one first.');

  const parsed = parseSubmission(input.body, input.file, { maxChars: config.submissionMaxChars, maxFileBytes: config.submissionMaxFileBytes });
  if (!parsed.ok) throw Invalid(parsed.fields);
  const { text, format, originalFilename } = parsed.value;

  await lockStudentTask(db, task.id, who.userId);
  const previous = await lastAttempt(db, task.id, who.userId);
  if (previous >= task.maxAttempts) {
    throw Conflict(task.maxAttempts === 1 ? 'You have already submitted this task; it allows one attempt.' : `You have used all ${task.maxAttempts} attempts for this task.`);
  }
  const attempt = previous + 1;

  const estimate = await estimateGrading(db, { task, version, text, studentId: who.userId, anonymize: privacy.anonymize }, `The grading prompt of this task uses a model llm-assess has no price for (${version.model}). Tell your instructor.`);

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
  const queueItem = await queueForGrading(db, config, who, { task, version, submissionId: submission.id, estimate });
  await recordAudit(db, {
    platformId: who.platformId,
    courseId: who.courseId,
    actorId: who.userId,
    actorKind: 'user',
    action: 'submission.created',
    entityType: 'submission',
    entityId: submission.id,
    details: { taskId: task.id, attempt, chars: text.length, queueItemId: queueItem.id, promptVersionId: version.id, estInputTokens: estimate.inputTokens, estCostMicros: estimate.costMicros, anonymized: privacy.anonymize },
  });
  return { submission, queueItem };
}
