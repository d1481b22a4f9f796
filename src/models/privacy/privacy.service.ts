import type { Db } from '../../db/db.js';
import { recordAudit } from '../audit/audit.repository.js';
import { getCoursePrivacy, saveCoursePrivacy, type CoursePrivacy } from './privacy.repository.js';
import type { PrivacyInput } from './privacy.schema.js';

/** Changes a course's privacy settings (instructors of the course only: checked at the edge). Audited. */
export async function updateCoursePrivacy(db: Db, actor: { platformId: number; courseId: number; userId: number }, input: PrivacyInput): Promise<CoursePrivacy> {
  const before = await getCoursePrivacy(db, actor.courseId);
  await saveCoursePrivacy(db, actor.courseId, actor.userId, input);
  await recordAudit(db, {
    platformId: actor.platformId,
    courseId: actor.courseId,
    actorId: actor.userId,
    actorKind: 'user',
    action: 'course.privacy_updated',
    entityType: 'course',
    entityId: actor.courseId,
    details: { before: { llmAllowed: before.llmAllowed, anonymize: before.anonymize, retentionDays: before.retentionDays, consentRequired: before.consentRequired }, after: input },
  });
  return getCoursePrivacy(db, actor.courseId);
}
