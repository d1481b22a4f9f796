import { z } from 'zod';
import type { Db } from '../../db/db.js';
import { Invalid } from '../../errors.js';
import { recordAudit } from '../audit/audit.repository.js';
import { getCoursePrivacy, saveCoursePrivacy, type CoursePrivacy } from './privacy.repository.js';
import { fieldsOf } from '../../validation.js';

/** An HTML checkbox: present ("on") when ticked, absent when not. */
const checkbox = z
  .enum(['on', 'true', '1', '', 'false', '0'], { error: 'must be a checkbox value' })
  .optional()
  .transform((v) => v === 'on' || v === 'true' || v === '1');

export const privacyForm = z.object({
  llmAllowed: checkbox,
  anonymize: checkbox,
  consentRequired: checkbox,
  retentionDays: z
    .string()
    .trim()
    .optional()
    .transform((v, ctx) => {
      if (!v) return null;
      const n = Number(v);
      if (!Number.isInteger(n) || n < 1 || n > 3650) {
        ctx.addIssue({ code: 'custom', message: 'Enter whole days from 1 to 3650, or leave empty to keep submissions.' });
        return z.NEVER;
      }
      return n;
    }),
});

/** Changes a course's privacy settings (instructors of the course only: checked at the edge). Audited. */
export async function updateCoursePrivacy(db: Db, actor: { platformId: number; courseId: number; userId: number }, raw: unknown): Promise<CoursePrivacy> {
  const parsed = privacyForm.safeParse(raw ?? {});
  if (!parsed.success) {
    throw Invalid(fieldsOf(parsed.error, { depth: 1 }));
  }
  const before = await getCoursePrivacy(db, actor.courseId);
  await saveCoursePrivacy(db, actor.courseId, actor.userId, parsed.data);
  await recordAudit(db, {
    platformId: actor.platformId,
    courseId: actor.courseId,
    actorId: actor.userId,
    actorKind: 'user',
    action: 'course.privacy_updated',
    entityType: 'course',
    entityId: actor.courseId,
    details: { before: { llmAllowed: before.llmAllowed, anonymize: before.anonymize, retentionDays: before.retentionDays, consentRequired: before.consentRequired }, after: parsed.data },
  });
  return getCoursePrivacy(db, actor.courseId);
}
