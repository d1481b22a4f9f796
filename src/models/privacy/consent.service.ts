import type { Db } from '../../db/db.js';
import { Invalid, NotFound } from '../../errors.js';
import { recordAudit } from '../audit/audit.repository.js';
import { CURRENT_CONSENT } from './consent.js';
import { findStandingConsent, recordConsent, withdrawConsent } from './consent.repository.js';
import { skipQueuedOfStudent } from '../queue/queue.repository.js';

export interface Student {
  platformId: number;
  courseId: number;
  userId: number;
}

/** Whether the student's standing consent covers the current wording. */
export async function hasCurrentConsent(db: Db, s: Student): Promise<boolean> {
  return (await findStandingConsent(db, s.courseId, s.userId))?.wordingVersion === CURRENT_CONSENT.version;
}

/**
 * Before work is queued in a course that asks for consent: a current consent stands, or the student ticks the box
 * now (recorded, with the wording's version), or the submission is refused beside the box (422).
 */
export async function requireConsent(db: Db, s: Student, ticked: boolean): Promise<void> {
  if (await hasCurrentConsent(db, s)) return;
  if (!ticked) throw Invalid({ consent: 'Please agree to your work being assessed by an LLM before submitting it, or choose to be graded by hand.' }, 'Choose how this attempt is graded first.');
  await recordConsent(db, s.courseId, s.userId, CURRENT_CONSENT.version);
  await recordAudit(db, { platformId: s.platformId, courseId: s.courseId, actorId: s.userId, actorKind: 'user', action: 'consent.given', entityType: 'course', entityId: s.courseId, details: { wordingVersion: CURRENT_CONSENT.version } });
}

/**
 * Withdraws the student's consent in the course: their queued work leaves the queue at once, and new work needs
 * consent again. Work already in a batch at the provider finishes (it cannot be recalled there).
 */
export async function withdrawStudentConsent(db: Db, s: Student): Promise<{ skipped: number }> {
  if (!(await withdrawConsent(db, s.courseId, s.userId))) throw NotFound('Your consent in this course');
  const skipped = await skipQueuedOfStudent(db, s.userId, 'The student withdrew their consent to LLM assessment.', s.courseId);
  await recordAudit(db, { platformId: s.platformId, courseId: s.courseId, actorId: s.userId, actorKind: 'user', action: 'consent.withdrawn', entityType: 'course', entityId: s.courseId, details: { queueItemsSkipped: skipped } });
  return { skipped };
}
