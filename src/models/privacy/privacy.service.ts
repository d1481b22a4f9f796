import type { Db } from '../../db/db.js';
import { Invalid } from '../../errors.js';
import { recordAudit } from '../audit/audit.repository.js';
import { getCoursePrivacy, getPlatformPrivacy, saveCoursePrivacy, savePlatformPrivacy, type CoursePrivacy, type PlatformPrivacy } from './privacy.repository.js';
import type { PlatformPrivacyInput, PrivacyInput } from './privacy.schema.js';

/**
 * Changes a course's privacy settings (instructors of the course only: checked at the edge), within its platform's
 * limits: a retention no longer than the longest allowed (and not "keep" when there is one), and only providers the
 * platform allows. Audited.
 */
export async function updateCoursePrivacy(db: Db, actor: { platformId: number; courseId: number; userId: number }, input: PrivacyInput): Promise<CoursePrivacy> {
  const limits = await getPlatformPrivacy(db, actor.platformId);
  const fields: Record<string, string> = {};
  if (limits.maxRetentionDays !== null && (input.retentionDays === null || input.retentionDays > limits.maxRetentionDays)) {
    fields.retentionDays = `Your institution keeps submissions at most ${limits.maxRetentionDays} days: enter ${limits.maxRetentionDays} or fewer.`;
  }
  const before = await getCoursePrivacy(db, actor.courseId);
  const values = { ...input, approvedProviders: input.approvedProviders ?? before.approvedProviders };
  const refused = input.approvedProviders?.filter((p) => !limits.allowedProviders.includes(p)) ?? [];
  if (refused.length) fields.approvedProviders = `Your institution does not allow ${refused.join(', ')}.`;
  // Only what the form sends is checked: a saved limit above a maximum lowered since is capped where it is counted,
  // and must not block saving the course's other settings.
  Object.assign(fields, escalationProblems(limits, { escalation: input.escalation, escalationLimit: input.escalationLimit }));
  if (Object.keys(fields).length) throw Invalid(fields, 'These settings go beyond what your institution allows.');
  await saveCoursePrivacy(db, actor.courseId, actor.userId, values);
  await recordAudit(db, {
    platformId: actor.platformId,
    courseId: actor.courseId,
    actorId: actor.userId,
    actorKind: 'user',
    action: 'course.privacy_updated',
    entityType: 'course',
    entityId: actor.courseId,
    details: {
      before: {
        llmAllowed: before.llmAllowed, anonymize: before.anonymize, retentionDays: before.retentionDays, consentRequired: before.consentRequired, approvedProviders: before.approvedProviders, realtimeOnly: before.realtimeOnly,
        escalation: before.escalation, escalationLimit: before.escalationLimit,
      },
      after: values,
    },
  });
  return getCoursePrivacy(db, actor.courseId);
}

/**
 * Students' priority requests within the platform's maximum: none at all when it is 0, else no more a month than it
 * allows. (A maximum lowered later caps every course's limit when a request is counted: escalation.service.ts.)
 */
function escalationProblems(limits: PlatformPrivacy, wanted: { escalation: CoursePrivacy['escalation'] | undefined; escalationLimit: number | undefined }): Record<string, string> {
  if (wanted.escalation !== 'students') return {};
  if (limits.maxStudentEscalations === 0) return { escalation: 'Your institution does not let students ask for priority grading.' };
  if (wanted.escalationLimit !== undefined && wanted.escalationLimit > limits.maxStudentEscalations) {
    return { escalationLimit: `Your institution allows at most ${limits.maxStudentEscalations} priority requests per student a month: enter ${limits.maxStudentEscalations} or fewer.` };
  }
  return {};
}

/**
 * Changes the platform's privacy defaults and limits (its administrators). A shorter longest retention applies to
 * every course at the next run of the privacy job, whatever the course says; a provider no longer allowed receives
 * nothing more from any course (checked when batches are made and sent). Audited.
 */
export async function updatePlatformPrivacy(db: Db, actor: { platformId: number; userId: number }, input: PlatformPrivacyInput): Promise<PlatformPrivacy> {
  const before = await getPlatformPrivacy(db, actor.platformId);
  await savePlatformPrivacy(db, actor.platformId, actor.userId, input);
  const { updatedAt: _u, platformId: _p, ...was } = before;
  await recordAudit(db, { platformId: actor.platformId, actorId: actor.userId, actorKind: 'user', action: 'platform.privacy_updated', entityType: 'platform', entityId: actor.platformId, details: { before: was, after: input } });
  return getPlatformPrivacy(db, actor.platformId);
}

/**
 * The providers a course's work may go to, in `configured` order: approved by the course, allowed by its platform,
 * and configured in this installation. What a prompt of the course may choose its model from.
 */
export async function usableProviders(db: Db, course: { platformId: number; courseId: number }, configured: readonly string[]): Promise<string[]> {
  const [privacy, limits] = await Promise.all([getCoursePrivacy(db, course.courseId), getPlatformPrivacy(db, course.platformId)]);
  return configured.filter((p) => privacy.approvedProviders.includes(p) && limits.allowedProviders.includes(p));
}
