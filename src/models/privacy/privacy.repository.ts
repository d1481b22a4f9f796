import { eq, sql } from 'drizzle-orm';
import type { Db } from '../../db/db.js';
import { coursePrivacy } from './privacy.table.js';
import { DEFAULT_RETENTION_DAYS } from './retention.repository.js';

export type CoursePrivacy = Omit<typeof coursePrivacy.$inferSelect, 'updatedBy' | 'updatedAt'> & { updatedAt: Date | null };

/** The defaults of a course nobody configured: no LLM assessment, anonymized, content kept 30 days after grading, OpenAI only. */
export function defaultPrivacy(courseId: number): CoursePrivacy {
  return { courseId, llmAllowed: false, consentRequired: false, anonymize: true, retentionDays: DEFAULT_RETENTION_DAYS, approvedProviders: ['openai'], realtimeOnly: false, updatedAt: null };
}

export async function getCoursePrivacy(db: Db, courseId: number): Promise<CoursePrivacy> {
  const [row] = await db.select().from(coursePrivacy).where(eq(coursePrivacy.courseId, courseId));
  return row ?? defaultPrivacy(courseId);
}

export async function saveCoursePrivacy(
  db: Db,
  courseId: number,
  userId: number,
  values: Pick<CoursePrivacy, 'llmAllowed' | 'anonymize' | 'retentionDays' | 'consentRequired'>,
): Promise<void> {
  await db
    .insert(coursePrivacy)
    .values({ courseId, ...values, updatedBy: userId })
    .onConflictDoUpdate({ target: coursePrivacy.courseId, set: { ...values, updatedBy: userId, updatedAt: sql`now()` } });
}

/** Allows LLM assessment in a course that has no privacy settings yet; true when it did (the demo's first start). */
export async function allowLlmUnlessSet(db: Db, courseId: number): Promise<boolean> {
  const rows = await db.insert(coursePrivacy).values({ courseId, llmAllowed: true }).onConflictDoNothing().returning({ courseId: coursePrivacy.courseId });
  return rows.length > 0;
}
