import { sql } from 'drizzle-orm';
import { boolean, check, index, integer, jsonb, pgTable, text, uniqueIndex } from 'drizzle-orm/pg-core';
import { courses, ltiPlatforms, users } from '../tenancy/tenancy.table.js';
import { at, createdAt, id, ref, updatedAt } from '../columns.js';

export const ESCALATION_POLICIES = ['off', 'instructors', 'students'] as const;
export type EscalationPolicy = (typeof ESCALATION_POLICIES)[number];
/** A student's priority requests a month when a course allows them and says nothing else: a few, not a habit. */
export const DEFAULT_ESCALATION_LIMIT = 2;
/** What a platform's administrators allow a course at most, unless they say otherwise. */
export const DEFAULT_MAX_ESCALATIONS = 5;
/** The most any setting may allow (per student per month). */
export const MAX_ESCALATION_LIMIT = 50;

/**
 * A course's privacy settings. LLM assessment is off until an instructor turns it on: nothing a student
 * writes leaves the institution before someone decided it may.
 */
export const coursePrivacy = pgTable(
  'course_privacy',
  {
    courseId: ref('course_id').primaryKey().references(() => courses.id, { onDelete: 'cascade' }),
    llmAllowed: boolean('llm_allowed').notNull().default(false),
    consentRequired: boolean('consent_required').notNull().default(false),
    anonymize: boolean('anonymize').notNull().default(true),
    /**
     * Days to keep submission content (and the texts written about it) after grading; null keeps it. New courses
     * start at 30 days (the institution's data-protection default).
     */
    retentionDays: integer('retention_days').default(30),
    approvedProviders: text('approved_providers').array().notNull().default(sql`'{openai}'::text[]`),
    realtimeOnly: boolean('realtime_only').notNull().default(false),
    /**
     * "Grade now" through the real-time API (twice the batch price): 'off' (an instructor's "grade now" only puts
     * work first in the next batch), 'instructors' (theirs goes real-time; the default), 'students' (students may
     * ask too, up to `escalationLimit` a month each, within the platform's maximum).
     */
    escalation: text('escalation').$type<EscalationPolicy>().notNull().default('instructors'),
    /** Priority requests per student per calendar month (UTC), when students may ask. */
    escalationLimit: integer('escalation_limit').notNull().default(DEFAULT_ESCALATION_LIMIT),
    updatedBy: ref('updated_by').references(() => users.id),
    updatedAt: updatedAt(),
  },
  (t) => [
    check('course_privacy_retention_check', sql`${t.retentionDays} is null or ${t.retentionDays} >= 1`),
    check('course_privacy_escalation_check', sql`${t.escalation} in ('off', 'instructors', 'students')`),
    check('course_privacy_escalation_limit_check', sql`${t.escalationLimit} between 1 and ${sql.raw(String(MAX_ESCALATION_LIMIT))}`),
  ],
);

export const PERSON_REQUEST_STATUSES = ['requested', 'scheduled', 'completed', 'declined'] as const;
export type PersonRequestStatus = (typeof PERSON_REQUEST_STATUSES)[number];

/**
 * A request to delete everything about one person of a platform (the right to erasure). A student's own request
 * waits for an administrator (`requested`); an administrator's decision (`scheduled`) is carried out by the next
 * run of the privacy job, which records what it erased (`result`, counts only) and `completedAt`.
 */
export const personRequests = pgTable(
  'person_requests',
  {
    id: id(),
    platformId: ref('platform_id').notNull().references(() => ltiPlatforms.id),
    userId: ref('user_id').notNull().references(() => users.id),
    source: text('source').$type<'student' | 'administrator' | 'api' | 'cli'>().notNull(),
    requestedBy: ref('requested_by').references(() => users.id),
    status: text('status').$type<PersonRequestStatus>().notNull(),
    decidedBy: ref('decided_by').references(() => users.id),
    result: jsonb('result').$type<Record<string, number>>(),
    createdAt: createdAt(),
    completedAt: at('completed_at'),
  },
  (t) => [
    index('person_requests_platform_idx').on(t.platformId, t.status),
    check('person_requests_status_check', sql`${t.status} in ('requested', 'scheduled', 'completed', 'declined')`),
    check('person_requests_source_check', sql`${t.source} in ('student', 'administrator', 'api', 'cli')`),
  ],
);

/** The providers a platform may allow (their prices and batch APIs are known to llm-assess). */
export const PROVIDERS = ['openai', 'anthropic'] as const;
export type ProviderName = (typeof PROVIDERS)[number];

/**
 * A platform's (an institution's) privacy defaults and limits, set by its administrators: which providers may
 * receive any work at all, the longest retention a course may choose (applied to every course, whatever it says),
 * and what a course nobody configured starts with.
 */
export const platformPrivacy = pgTable(
  'platform_privacy',
  {
    platformId: ref('platform_id').primaryKey().references(() => ltiPlatforms.id),
    allowedProviders: text('allowed_providers').array().notNull().default(sql`'{openai,anthropic}'::text[]`),
    /** Days; null: no limit. */
    maxRetentionDays: integer('max_retention_days'),
    defaultRetentionDays: integer('default_retention_days').default(30),
    defaultAnonymize: boolean('default_anonymize').notNull().default(true),
    defaultConsentRequired: boolean('default_consent_required').notNull().default(false),
    /** The most priority requests a course may give each student a month; 0: no course may let students ask. */
    maxStudentEscalations: integer('max_student_escalations').notNull().default(DEFAULT_MAX_ESCALATIONS),
    updatedBy: ref('updated_by').references(() => users.id),
    updatedAt: updatedAt(),
  },
  (t) => [
    check('platform_privacy_max_retention_check', sql`${t.maxRetentionDays} is null or ${t.maxRetentionDays} >= 1`),
    check('platform_privacy_default_retention_check', sql`${t.defaultRetentionDays} is null or ${t.defaultRetentionDays} >= 1`),
    check('platform_privacy_max_escalations_check', sql`${t.maxStudentEscalations} between 0 and ${sql.raw(String(MAX_ESCALATION_LIMIT))}`),
  ],
);

/**
 * A student's consent to LLM assessment in a course, as a record: when, to which wording (CONSENT_WORDINGS in
 * consent.ts), and when withdrawn. At most one standing consent per student and course; a withdrawn one stays as
 * history, and giving consent again makes a new row.
 */
export const consentRecords = pgTable(
  'consent_records',
  {
    id: id(),
    courseId: ref('course_id').notNull().references(() => courses.id),
    userId: ref('user_id').notNull().references(() => users.id),
    wordingVersion: integer('wording_version').notNull(),
    givenAt: createdAt(),
    withdrawnAt: at('withdrawn_at'),
  },
  (t) => [
    uniqueIndex('consent_records_standing_key').on(t.courseId, t.userId).where(sql`${t.withdrawnAt} is null`),
    index('consent_records_user_idx').on(t.userId),
  ],
);
