import { sql } from 'drizzle-orm';
import { check, date, index, integer, jsonb, pgTable, real, text, unique } from 'drizzle-orm/pg-core';
import { courses, ltiPlatforms } from '../tenancy/tenancy.table.js';
import { at, id, micros, ref } from '../columns.js';

/**
 * The seed's daily metrics (§9), one row per UTC day and course, and one per day and platform (course null: the
 * platform's totals, its averages over all its rows rather than an average of the courses', and its batches, which
 * belong to the platform). Written by the `rollup-daily-metrics` job, which replaces a day's rows, so any day can be
 * computed again.
 */
export const dailyMetrics = pgTable(
  'daily_metrics',
  {
    id: id(),
    day: date('day', { mode: 'string' }).notNull(),
    platformId: ref('platform_id').notNull().references(() => ltiPlatforms.id),
    courseId: ref('course_id').references(() => courses.id),
    assessmentsQueued: integer('assessments_queued').notNull().default(0),
    assessmentsCompleted: integer('assessments_completed').notNull().default(0),
    assessmentsFailed: integer('assessments_failed').notNull().default(0),
    batchesCreated: integer('batches_created').notNull().default(0),
    batchesCompleted: integer('batches_completed').notNull().default(0),
    batchesFailed: integer('batches_failed').notNull().default(0),
    costMicros: micros('cost_micros').notNull().default(0),
    /** From queued to sent to the provider, and from sent to the result, in seconds, over the day's results. */
    avgQueueSeconds: real('avg_queue_seconds'),
    avgProcessingSeconds: real('avg_processing_seconds'),
    avgConfidence: real('avg_confidence'),
    /** Results of the day by provider ({"openai": 120}). */
    providerCounts: jsonb('provider_counts').$type<Record<string, number>>().notNull().default(sql`'{}'::jsonb`),
    computedAt: at('computed_at').notNull().defaultNow(),
  },
  (t) => [
    unique('daily_metrics_day_scope_key').on(t.day, t.platformId, t.courseId).nullsNotDistinct(),
    index('daily_metrics_platform_day_idx').on(t.platformId, t.day),
  ],
);

/** A student's rating of how soon their feedback came (1–5, seed §11's satisfaction KPI), once per attempt. */
export const feedbackRatings = pgTable(
  'feedback_ratings',
  {
    id: id(),
    platformId: ref('platform_id').notNull().references(() => ltiPlatforms.id),
    courseId: ref('course_id').notNull().references(() => courses.id),
    submissionId: ref('submission_id').notNull(),
    studentId: ref('student_id').notNull(),
    rating: integer('rating').notNull(),
    comment: text('comment'),
    createdAt: at('created_at').notNull().defaultNow(),
  },
  (t) => [
    unique('feedback_ratings_submission_key').on(t.submissionId),
    index('feedback_ratings_platform_idx').on(t.platformId, t.createdAt),
    check('feedback_ratings_rating_check', sql`${t.rating} between 1 and 5`),
  ],
);
