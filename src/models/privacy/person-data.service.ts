import type { Config } from '../../config.js';
import { ContentDecryptionError, decryptContent } from '../../crypto/content.js';
import type { Db, RootDb } from '../../db/db.js';
import { Conflict, NotFound } from '../../errors.js';
import { recordAudit } from '../audit/audit.repository.js';
import { skipQueuedOfStudent } from '../queue/queue.repository.js';
import { openText, textOwnerOf } from '../assessments/assessment-texts.js';
import { insertNotification } from '../notifications/notifications.repository.js';
import {
  anonymizePerson,
  completePersonRequest,
  countInFlight,
  decidePersonRequest,
  findOpenRequest,
  findPerson,
  insertPersonRequest,
  lockNextScheduledErasure,
  personRecords,
  submissionIdsOf,
  type PersonRow,
} from './person-data.repository.js';
import { eraseAssessmentTexts, eraseQueueNotes, eraseSubmissionContent, REMOVED_TEXT } from './retention.repository.js';
import { eraseAppealTexts } from '../appeals/appeals.repository.js';
import { eraseRatingComments } from '../metrics/ratings.repository.js';

/** Who acts on a person's data: an administrator of the platform (or the CLI/API on their behalf). */
export interface DataActor {
  platformId: number;
  userId: number | null;
  source: 'administrator' | 'api' | 'cli';
}

export async function requirePerson(db: Db, platformId: number, userId: number): Promise<PersonRow> {
  const person = await findPerson(db, platformId, userId);
  if (!person) throw NotFound('The person');
  return person;
}

const iso = (d: Date | null) => (d ? new Date(d).toISOString() : null);

/**
 * Everything llm-assess holds about one person of a platform, readable: who they are here, their courses and
 * roles, their submissions (decrypted), the assessments of them with feedback and decisions, their queue items,
 * what they did (audit entries) and their requests. Scores in the LMS gradebook are the LMS's to export.
 */
export async function exportPerson(db: Db, config: Pick<Config, 'encryptionKey'>, platformId: number, userId: number, options: { forThePerson?: boolean } = {}) {
  const person = await requirePerson(db, platformId, userId);
  const r = await personRecords(db, userId);
  // What a student downloads follows the release rule: no result before it is released to them, and not the
  // grader-only reasoning or the reviewer's reason (internal notes about their grade).
  const assessments = options.forThePerson ? r.assessments.filter((a) => a.released) : r.assessments;
  const resultFor = (result: Record<string, unknown> | null) => {
    if (!options.forThePerson || !result) return result;
    const { reasoning: _reasoning, ...shown } = result;
    return shown;
  };
  return {
    exportedAt: new Date().toISOString(),
    person: { id: person.id, lmsIssuer: person.issuer, lmsUserId: person.sub, name: person.name, givenName: person.givenName, familyName: person.familyName, email: person.email, lastLaunchAt: iso(person.lastLaunchAt), erasedAt: iso(person.erasedAt) },
    courses: r.memberships.map((m) => ({ courseId: Number(m.course_id), course: m.course, role: m.role, ltiRoles: m.lti_roles, active: m.active })),
    submissions: r.submissions.map((s) => ({
      id: Number(s.id),
      course: s.course,
      task: s.task,
      attempt: s.attempt,
      submittedAt: iso(s.created_at),
      format: s.content_format,
      fileName: s.original_filename,
      characters: s.char_count,
      text: s.content ? readText(config, s.content, { taskId: Number(s.task_id), studentId: userId, attempt: s.attempt }) : null,
      removedAt: iso(s.purged_at),
    })),
    assessments: assessments.map((a) => ({
      id: Number(a.id),
      submissionId: Number(a.submission_id),
      status: a.review_status,
      aiScore: a.score == null ? null : Number(a.score),
      finalScore: a.override_score != null ? Number(a.override_score) : a.score == null ? null : Number(a.score),
      maxScore: Number(a.max_score),
      aiResult: resultFor(a.result),
      // Reviewers' texts are stored encrypted (assessment-texts.ts), bound to the queue item.
      instructorFeedback: openText(config.encryptionKey, textOwnerOf(a), 'override_feedback', a.override_feedback),
      overrideReason: options.forThePerson ? undefined : openText(config.encryptionKey, textOwnerOf(a), 'override_reason', a.override_reason),
      decidedAt: iso(a.reviewed_at),
      releasedAt: iso(a.released_at),
      gradebook: a.grade_sync_status,
    })),
    queue: r.queue.map((q) => ({ id: Number(q.id), submissionId: Number(q.submission_id), status: q.status, queuedAt: iso(q.created_at) })),
    actions: r.audit.map((e) => ({ id: Number(e.id), action: e.action, record: e.entity_id ? `${e.entity_type} ${e.entity_id}` : e.entity_type, at: iso(e.created_at) })),
    requests: r.requests.map((q) => ({ id: Number(q.id), source: q.source, status: q.status, requestedAt: iso(q.created_at), completedAt: iso(q.completed_at) })),
  };
}
export type PersonExport = Awaited<ReturnType<typeof exportPerson>>;

/** A submission's text, or a note when the key cannot read it (the export still lists the submission). */
function readText(config: Pick<Config, 'encryptionKey'>, content: Buffer, binding: { taskId: number; studentId: number; attempt: number }): string {
  try {
    return decryptContent(config.encryptionKey, content, binding);
  } catch (err) {
    if (err instanceof ContentDecryptionError) return '(this text cannot be decrypted with the current key)';
    throw err;
  }
}

/**
 * A student asks for their data to be deleted: the request waits for an administrator (who may have to keep it,
 * e.g. during an appeal), and every administrator of the platform is told. One open request at a time.
 */
export async function requestErasure(db: Db, who: { platformId: number; userId: number }): Promise<{ id: number; created: boolean }> {
  const open = await findOpenRequest(db, who.userId);
  if (open) {
    // Asking again is recorded (the administrators see the student is waiting), not a second request.
    await recordAudit(db, { platformId: who.platformId, actorId: who.userId, actorKind: 'user', action: 'person.erasure_asked_again', entityType: 'person_request', entityId: open.id });
    return { id: open.id, created: false };
  }
  const id = await insertPersonRequest(db, { platformId: who.platformId, userId: who.userId, source: 'student', requestedBy: who.userId, status: 'requested', decidedBy: null });
  await insertNotification(db, {
    platformId: who.platformId,
    courseId: null,
    userId: null,
    kind: 'person_request',
    severity: 'warning',
    title: 'A student asked for their data to be deleted',
    body: 'Review the request under People: delete the data, or decline with a reason you give the student yourself.',
    link: `/admin/people/requests`,
  });
  await recordAudit(db, { platformId: who.platformId, actorId: who.userId, actorKind: 'user', action: 'person.erasure_requested', entityType: 'person_request', entityId: id });
  return { id, created: true };
}

/** An administrator's decision to delete a person's data: carried out by the next run of the privacy job. */
export async function scheduleErasure(db: Db, actor: DataActor, personId: number): Promise<number> {
  const person = await requirePerson(db, actor.platformId, personId);
  if (person.erasedAt) throw Conflict('This person\'s data was already deleted.');
  if (actor.userId !== null && actor.userId === person.id) throw Conflict('Ask another administrator to delete your own data: it would end your access in the middle of it.');
  const open = await findOpenRequest(db, person.id);
  let id: number;
  if (open?.status === 'scheduled') return open.id;
  if (open) {
    await decidePersonRequest(db, open.id, actor.platformId, 'scheduled', actor.userId ?? person.id);
    id = open.id;
  } else {
    id = await insertPersonRequest(db, { platformId: actor.platformId, userId: person.id, source: actor.source, requestedBy: actor.userId, status: 'scheduled', decidedBy: actor.userId });
  }
  await recordAudit(db, { platformId: actor.platformId, actorId: actor.userId, actorKind: actor.userId ? 'user' : 'system', action: 'person.erasure_scheduled', entityType: 'person_request', entityId: id, details: { source: actor.source } });
  return id;
}

export async function declineErasure(db: Db, actor: { platformId: number; userId: number }, requestId: number): Promise<void> {
  if (!(await decidePersonRequest(db, requestId, actor.platformId, 'declined', actor.userId))) throw NotFound('An open request with this number');
  await recordAudit(db, { platformId: actor.platformId, actorId: actor.userId, actorKind: 'user', action: 'person.erasure_declined', entityType: 'person_request', entityId: requestId });
}

export interface ErasureRun {
  completed: number;
  /** People with submissions at a provider right now: erased by a later run, once those batches end. */
  waiting: number;
}

/**
 * Carries out the scheduled erasures, one person per transaction. Their waiting queue items leave the queue at
 * once; if some of their work is in a batch at the provider, the rest waits for a later run (the batch's files
 * there are deleted when it ends). Then their texts, and everything written about them, are erased and the person
 * becomes a nameless row: scores and decisions stay, so course aggregates and budgets do not move.
 */
export async function carryOutErasures(db: RootDb, now = new Date()): Promise<ErasureRun> {
  const run: ErasureRun = { completed: 0, waiting: 0 };
  // In id order, each request once per run (one still waiting for a provider is passed, not taken again).
  let afterId = 0;
  for (;;) {
    const outcome = await db.transaction(async (tx) => {
      const next = await lockNextScheduledErasure(tx, afterId);
      if (!next) return null;
      afterId = next.id;
      const person = await findPerson(tx, next.platformId, next.userId);
      if (!person) return 'waiting' as const;
      const skipped = await skipQueuedOfStudent(tx, person.id, 'The person\'s data was deleted on request.');
      if ((await countInFlight(tx, person.id)) > 0) return 'waiting' as const;
      const ids = await submissionIdsOf(tx, person.id);
      const submissions = await eraseSubmissionContent(tx, ids, now);
      const assessments = await eraseAssessmentTexts(tx, ids);
      await eraseQueueNotes(tx, ids);
      await eraseAppealTexts(tx, ids, REMOVED_TEXT);
      await eraseRatingComments(tx, ids);
      const { memberships } = await anonymizePerson(tx, person);
      const result = { submissions, assessments, queueItemsSkipped: skipped, memberships };
      await completePersonRequest(tx, next.id, result);
      await recordAudit(tx, { platformId: next.platformId, actorKind: 'system', action: 'person.erased', entityType: 'person_request', entityId: next.id, details: result });
      return 'completed' as const;
    });
    if (outcome === null) return run;
    run[outcome] += 1;
  }
}
