import { eq, sql } from 'drizzle-orm';
import type { Db } from '../../db/db.js';
import { coursePrivacy, DEFAULT_ESCALATION_LIMIT, DEFAULT_MAX_ESCALATIONS, platformPrivacy, type EscalationPolicy } from './privacy.table.js';
import { DEFAULT_RETENTION_DAYS } from './retention.repository.js';

export type CoursePrivacy = Omit<typeof coursePrivacy.$inferSelect, 'updatedBy' | 'updatedAt'> & { updatedAt: Date | null };
export type PlatformPrivacy = Omit<typeof platformPrivacy.$inferSelect, 'updatedBy' | 'updatedAt'> & { updatedAt: Date | null };

/**
 * The defaults of a platform nobody configured: every known provider allowed, no retention limit, 30 days, anonymized,
 * courses may give students up to 5 priority requests a month.
 */
export function defaultPlatformPrivacy(platformId: number): PlatformPrivacy {
  return { platformId, allowedProviders: ['openai', 'anthropic'], maxRetentionDays: null, defaultRetentionDays: DEFAULT_RETENTION_DAYS, defaultAnonymize: true, defaultConsentRequired: false, maxStudentEscalations: DEFAULT_MAX_ESCALATIONS, updatedAt: null };
}

export async function getPlatformPrivacy(db: Db, platformId: number): Promise<PlatformPrivacy> {
  const [row] = await db.select().from(platformPrivacy).where(eq(platformPrivacy.platformId, platformId));
  return row ?? defaultPlatformPrivacy(platformId);
}

export async function savePlatformPrivacy(db: Db, platformId: number, userId: number, values: Omit<PlatformPrivacy, 'platformId' | 'updatedAt' | 'maxStudentEscalations'> & { maxStudentEscalations?: number }): Promise<void> {
  await db
    .insert(platformPrivacy)
    .values({ platformId, ...values, updatedBy: userId })
    .onConflictDoUpdate({ target: platformPrivacy.platformId, set: { ...values, updatedBy: userId, updatedAt: sql`now()` } });
}

/**
 * The defaults of a course nobody configured: no LLM assessment, OpenAI only, not real-time only, "grade now" through
 * the real-time API for instructors only, and its platform's defaults for anonymization, consent and retention.
 */
export function defaultPrivacy(courseId: number, platform: Pick<PlatformPrivacy, 'defaultAnonymize' | 'defaultConsentRequired' | 'defaultRetentionDays'> = defaultPlatformPrivacy(0)): CoursePrivacy {
  return { courseId, llmAllowed: false, consentRequired: platform.defaultConsentRequired, anonymize: platform.defaultAnonymize, retentionDays: platform.defaultRetentionDays, approvedProviders: ['openai'], realtimeOnly: false, escalation: 'instructors', escalationLimit: DEFAULT_ESCALATION_LIMIT, updatedAt: null };
}

export async function getCoursePrivacy(db: Db, courseId: number): Promise<CoursePrivacy> {
  const [row] = await db.select().from(coursePrivacy).where(eq(coursePrivacy.courseId, courseId));
  if (row) return row;
  const rows = await db.execute<{ default_anonymize: boolean; default_consent_required: boolean; default_retention_days: number | null }>(sql`
    select pp.default_anonymize, pp.default_consent_required, pp.default_retention_days
    from courses c join platform_privacy pp on pp.platform_id = c.platform_id where c.id = ${courseId}`);
  const p = rows.rows[0];
  return p ? defaultPrivacy(courseId, { defaultAnonymize: p.default_anonymize, defaultConsentRequired: p.default_consent_required, defaultRetentionDays: p.default_retention_days }) : defaultPrivacy(courseId);
}

export async function saveCoursePrivacy(
  db: Db,
  courseId: number,
  userId: number,
  values: Pick<CoursePrivacy, 'llmAllowed' | 'anonymize' | 'retentionDays' | 'consentRequired' | 'approvedProviders' | 'realtimeOnly'> & { escalation?: EscalationPolicy; escalationLimit?: number },
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

/** Why a course's work may not go into a batch, first reason first. */
export type BatchRefusal = 'llm_off' | 'realtime_only' | 'not_approved' | 'not_allowed';

/**
 * The courses among `courseIds` whose work may not go into a batch of `provider` now, each with why: LLM
 * assessment turned off, real time only, or the provider not approved by the course or not allowed by the platform.
 * The one rule for making a batch and for sending it; with `realtime`, for a real-time call (real time only is then
 * no reason to refuse).
 */
export async function coursesRefusingBatch(db: Db, courseIds: number[], provider: string, options: { realtime?: boolean } = {}): Promise<Array<{ courseId: number; title: string; reason: BatchRefusal }>> {
  if (!courseIds.length) return [];
  const realtimeOnly = options.realtime ? sql`false` : sql`coalesce(p.realtime_only, false)`;
  const rows = await db.execute<{ course_id: number; title: string; reason: BatchRefusal }>(sql`
    select c.id as course_id, coalesce(nullif(c.title, ''), 'course ' || c.id) as title, case
        when not coalesce(p.llm_allowed, false) then 'llm_off'
        when ${realtimeOnly} then 'realtime_only'
        when not (${provider} = any(coalesce(p.approved_providers, '{openai}'))) then 'not_approved'
        else 'not_allowed' end as reason
    from courses c
    left join course_privacy p on p.course_id = c.id
    left join platform_privacy pp on pp.platform_id = c.platform_id
    where c.id = any(${sql.param(courseIds)}::bigint[])
      and (not coalesce(p.llm_allowed, false) or ${realtimeOnly}
           or not (${provider} = any(coalesce(p.approved_providers, '{openai}')))
           or not (${provider} = any(coalesce(pp.allowed_providers, '{openai,anthropic}'))))
    order by c.title`);
  return rows.rows.map((r) => ({ courseId: Number(r.course_id), title: r.title, reason: r.reason }));
}
