import type { Db } from '../../db/db.js';
import { Conflict, NotFound } from '../../errors.js';
import { estimateCostMicros, realtimeCustomIdFor, UnknownModelError } from '../../providers/index.js';
import { recordAudit } from '../audit/audit.repository.js';
import { checkWithinBudgets, dollars } from '../budgets/budgets.service.js';
import { coursesRefusingBatch, getCoursePrivacy, getPlatformPrivacy, type CoursePrivacy, type PlatformPrivacy } from '../privacy/privacy.repository.js';
import { findSubmissionContent } from '../submissions/submissions.repository.js';
import { countItemRequests, countStudentRequests, insertRealtimeRequest, lockLatestItem, lockStudentEscalations, type WaitingItem } from './escalation.repository.js';
import type { RealtimeSource } from './escalation.table.js';

/**
 * Asking for work to be graded now through the provider's real-time API, at the standard price (twice a batch's):
 * a student's priority request (where the course allows it, within their monthly limit), an instructor's "grade
 * now", or every submission of a real-time-only course. Each is checked against the course, the item (still
 * queued, in no batch) and the spending gate (the worst case must fit the budgets; nothing is reserved here: the
 * worker reserves it when it calls), refused with a message and nothing changed, or moves the item queued →
 * processing (out of every batch's reach) with its request, audited. Run in a transaction; the caller enqueues
 * the `grade-realtime` job with the request's id after the commit. The call itself: realtime-grading.service.ts.
 */

export interface Asker {
  platformId: number;
  courseId: number;
  userId: number;
}

export interface StartedGrading {
  requestId: number;
  queueItemId: number;
  /** What the call may cost at most (real-time prices, the prompt's maximum output). */
  worstMicros: number;
}

/** A student's priority requests in a course: whether they may ask, their monthly limit, and how many are left. */
export interface StudentEscalation {
  allowed: boolean;
  limit: number;
  used: number;
  left: number;
}

/** The course's limit, never above what the platform allows now (a maximum lowered later caps every course). */
const limitOf = (course: CoursePrivacy, platform: PlatformPrivacy) => Math.min(course.escalationLimit, platform.maxStudentEscalations);

export async function studentEscalation(db: Db, who: Omit<Asker, 'userId'>, studentId: number): Promise<StudentEscalation> {
  const [course, platform] = await Promise.all([getCoursePrivacy(db, who.courseId), getPlatformPrivacy(db, who.platformId)]);
  const limit = limitOf(course, platform);
  const allowed = course.llmAllowed && !course.realtimeOnly && course.escalation === 'students' && limit > 0;
  const used = allowed ? await countStudentRequests(db, who.courseId, studentId) : 0;
  return { allowed, limit, used, left: Math.max(0, limit - used) };
}

/** A student asks for their own queued work to be graded now: refused (409) where the course does not offer it or their limit is used. */
export async function requestPriorityGrading(db: Db, student: Asker, taskId: number, submissionId: number): Promise<StartedGrading & { left: number }> {
  const s = await findSubmissionContent(db, submissionId);
  if (!s || Number(s.course_id) !== student.courseId || Number(s.student_id) !== student.userId || Number(s.task_id) !== taskId) throw NotFound('The submission');
  const status = await studentEscalation(db, student, student.userId);
  if (!status.allowed) throw Conflict('Priority grading is not offered in this course: your work is graded with the next batch.');
  // Counted and added under one lock: two requests at once cannot both take the last one.
  await lockStudentEscalations(db, student.courseId, student.userId);
  const used = await countStudentRequests(db, student.courseId, student.userId);
  if (used >= status.limit) {
    throw Conflict(`You have used your ${status.limit} priority ${status.limit === 1 ? 'request' : 'requests'} for this month (they renew on the 1st, UTC). Nothing was changed: your work keeps its place in the queue.`);
  }
  const started = await startRealtime(db, student, submissionId, 'student');
  return { ...started, left: status.limit - used - 1 };
}

/**
 * Whether an instructor's "grade now" of one submission goes through the real-time API: unless the course turned it
 * off, and always in a real-time-only course (whose work no batch takes). Otherwise it goes first in the next batch.
 */
export function gradesNowInRealtime(course: Pick<CoursePrivacy, 'escalation' | 'realtimeOnly'>): boolean {
  return course.escalation !== 'off' || course.realtimeOnly;
}

/** An instructor has one submission of their course graded now (the course's setting allows it: the caller checked). */
export async function instructorGradeNow(db: Db, instructor: Asker, taskId: number, submissionId: number): Promise<StartedGrading> {
  const s = await findSubmissionContent(db, submissionId);
  if (!s || Number(s.course_id) !== instructor.courseId || Number(s.task_id) !== taskId) throw NotFound('The submission');
  return startRealtime(db, instructor, submissionId, 'instructor');
}

/** Every new item of a real-time-only course: its request, without the checks a person's request passes (the worker's gate still applies). */
export async function startRealtimeOnly(db: Db, queueItemId: number): Promise<number | null> {
  const customId = realtimeCustomIdFor(queueItemId, (await countItemRequests(db, queueItemId)) + 1);
  return insertRealtimeRequest(db, queueItemId, { customId, source: 'realtime_only', requestedBy: null, note: 'Real-time only course: graded through the real-time API.' });
}

/** The checks every person's request passes, then the item out of the queue with its request, audited. */
async function startRealtime(db: Db, who: Asker, submissionId: number, source: Exclude<RealtimeSource, 'realtime_only'>): Promise<StartedGrading> {
  const item = await lockLatestItem(db, submissionId);
  refuseUnlessWaiting(item);
  await refuseByPrivacy(db, item);
  const worstMicros = worstCaseOf(item);
  await checkWithinBudgets(db, item.platform_id, new Map([[item.course_id, worstMicros]]), (scope, already, adding, limit) =>
    `Grading this now could cost up to ${dollars(adding)} at real-time prices, more than the monthly budget of ${scope} has left: ${dollars(already)} already spent or committed of ${dollars(limit)}. Nothing was changed: the work keeps its place in the queue.`,
  );
  const customId = realtimeCustomIdFor(item.id, (await countItemRequests(db, item.id)) + 1);
  const when = new Date().toISOString().slice(0, 16).replace('T', ' ');
  const note = source === 'student' ? `The student asked for priority grading (${when} UTC): graded through the real-time API.` : `The instructor asked to grade this now (${when} UTC): graded through the real-time API.`;
  const requestId = await insertRealtimeRequest(db, item.id, { customId, source, requestedBy: who.userId, note });
  // The item is locked and was queued: only the one-live-request index could refuse, and it would have thrown.
  if (requestId === null) throw Conflict('This work is no longer waiting in the queue.');
  await recordAudit(db, {
    platformId: who.platformId, courseId: who.courseId, actorId: who.userId, actorKind: 'user', action: 'escalation.requested',
    entityType: 'queue_item', entityId: item.id, details: { source, requestId, submissionId, customId, provider: item.provider, model: item.model, worstMicros },
  });
  return { requestId, queueItemId: item.id, worstMicros };
}

/** Only work still waiting in the queue, in no batch, can be sent on its own; anything else is refused with what it is doing. */
function refuseUnlessWaiting(item: WaitingItem | undefined): asserts item is WaitingItem {
  if (!item) throw Conflict('This work is not graded by the LLM, so it cannot be graded now.');
  if (item.status === 'queued' && item.batch_id === null) return;
  if (item.batch_id !== null && (item.status === 'selected' || item.status === 'processing')) {
    throw Conflict('This work is already in a batch: it is graded with that batch and cannot be sent on its own.');
  }
  if (item.status === 'processing') throw Conflict('This work is already being graded now.');
  if (item.status === 'completed') throw Conflict('This work is graded already.');
  throw Conflict('This work is not waiting in the queue (its grading failed or it was taken out), so it cannot be graded now.');
}

/** The course must allow LLM assessment and approve the prompt's provider (real time only is no refusal here). */
async function refuseByPrivacy(db: Db, item: WaitingItem): Promise<void> {
  const [refusal] = await coursesRefusingBatch(db, [item.course_id], item.provider, { realtime: true });
  if (!refusal) return;
  if (refusal.reason === 'llm_off') throw Conflict('LLM assessment is off for this course, so nothing can be sent.');
  throw Conflict(`The grading prompt sends this work to ${item.provider}, which this course (or the institution) does not approve.`);
}

/** The most the call may cost: the exact input tokens estimated at submit, the prompt's maximum output, at real-time prices. */
export function worstCaseOf(item: Pick<WaitingItem, 'est_input_tokens' | 'max_output_tokens' | 'model'>): number {
  try {
    return estimateCostMicros({ inputTokens: item.est_input_tokens, outputTokens: item.max_output_tokens }, item.model, 'standard');
  } catch (err) {
    if (err instanceof UnknownModelError) throw Conflict(`The grading prompt uses a model llm-assess has no price for (${item.model}), so it cannot be graded now.`);
    throw err;
  }
}
