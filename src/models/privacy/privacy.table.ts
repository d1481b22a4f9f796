import { sql } from 'drizzle-orm';
import { boolean, check, integer, pgTable, text } from 'drizzle-orm/pg-core';
import { courses, users } from '../tenancy/tenancy.table.js';
import { ref, updatedAt } from '../columns.js';

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
    updatedBy: ref('updated_by').references(() => users.id),
    updatedAt: updatedAt(),
  },
  (t) => [check('course_privacy_retention_check', sql`${t.retentionDays} is null or ${t.retentionDays} >= 1`)],
);
