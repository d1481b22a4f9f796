import { sql } from 'drizzle-orm';
import { type AnyPgColumn, check, index, integer, pgTable, smallint, text, uniqueIndex } from 'drizzle-orm/pg-core';
import { courses, ltiPlatforms } from '../tenancy/tenancy.table.js';
import { tasks } from '../tasks/tasks.table.js';
import { submissions } from '../submissions/submissions.table.js';
import { promptVersions } from '../prompts/prompts.table.js';
import { batches } from '../batches/batches.table.js';
import { promptAbTests } from '../prompts/ab-tests.table.js';
import { at, createdAt, id, micros, ref, updatedAt } from '../columns.js';

export const QUEUE_STATUSES = ['queued', 'selected', 'processing', 'completed', 'failed', 'skipped'] as const;
export type QueueStatus = (typeof QUEUE_STATUSES)[number];
export const PRIORITIES = ['high', 'normal', 'low'] as const;
export type Priority = (typeof PRIORITIES)[number];

/**
 * A submission waiting to be graded with one exact prompt version.
 * queued → selected → processing → completed | failed; queued → skipped; failed → queued while attempts remain.
 * Platform, course and task are copied here so the admin dashboard filters without joins.
 */
export const queueItems = pgTable(
  'queue_items',
  {
    id: id(),
    platformId: ref('platform_id').notNull().references(() => ltiPlatforms.id),
    courseId: ref('course_id').notNull().references(() => courses.id),
    taskId: ref('task_id').notNull().references(() => tasks.id),
    submissionId: ref('submission_id').notNull().references(() => submissions.id),
    promptVersionId: ref('prompt_version_id').notNull().references(() => promptVersions.id),
    status: text('status').$type<QueueStatus>().notNull().default('queued'),
    priority: text('priority').$type<Priority>().notNull().default('normal'),
    /** 0 = high, 1 = normal, 2 = low: sorts in an index, unlike the label. */
    priorityRank: smallint('priority_rank').notNull().default(1),
    model: text('model').notNull(),
    estInputTokens: integer('est_input_tokens').notNull(),
    estOutputTokens: integer('est_output_tokens').notNull(),
    estCostMicros: micros('est_cost_micros').notNull(),
    batchId: ref('batch_id').references((): AnyPgColumn => batches.id),
    attempts: integer('attempts').notNull().default(0),
    maxAttempts: integer('max_attempts').notNull().default(3),
    lastError: text('last_error'),
    notBefore: at('not_before'),
    /** The feedback time the student was last told (queued or delayed notice): past it, they are told it is late. */
    etaToldAt: at('eta_told_at'),
    adminNotes: text('admin_notes').notNull().default(''),
    /** The A/B test that chose this item's prompt version (null: the task's active version, no test). */
    abTestId: ref('ab_test_id').references(() => promptAbTests.id),
    /**
     * sha256 of what the request sends (prompt version, model, source language, the text as sent: request-hash.ts).
     * An identical later attempt of the same student finds an earlier result by it and reuses it, unpaid.
     */
    requestHash: text('request_hash'),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
    completedAt: at('completed_at'),
  },
  (t) => [
    index('queue_items_dashboard_idx').on(t.platformId, t.status, t.priorityRank, t.createdAt),
    index('queue_items_course_idx').on(t.courseId, t.status),
    index('queue_items_task_idx').on(t.taskId, t.status),
    // The dashboard's "all statuses" view and date filters, newest or oldest first.
    index('queue_items_platform_created_idx').on(t.platformId, t.createdAt),
    index('queue_items_batch_idx').on(t.batchId),
    index('queue_items_submission_idx').on(t.submissionId),
    index('queue_items_request_hash_idx').on(t.taskId, t.requestHash),
    // A submission is graded by at most one live queue item at a time: never graded (or charged) twice.
    uniqueIndex('queue_items_one_live_per_submission')
      .on(t.submissionId)
      .where(sql`${t.status} in ('queued', 'selected', 'processing')`),
    check(
      'queue_items_status_check',
      sql`${t.status} in ('queued', 'selected', 'processing', 'completed', 'failed', 'skipped')`,
    ),
    check('queue_items_priority_check', sql`${t.priority} in ('high', 'normal', 'low')`),
    check('queue_items_attempts_check', sql`${t.attempts} >= 0 and ${t.maxAttempts} >= 1`),
  ],
);
