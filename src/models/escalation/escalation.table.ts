import { sql } from 'drizzle-orm';
import { check, index, pgTable, text, uniqueIndex } from 'drizzle-orm/pg-core';
import { courses, ltiPlatforms, users } from '../tenancy/tenancy.table.js';
import { tasks } from '../tasks/tasks.table.js';
import { queueItems } from '../queue/queue.table.js';
import { at, createdAt, id, micros, ref } from '../columns.js';

export const REALTIME_SOURCES = ['student', 'instructor', 'realtime_only'] as const;
/** Who asked: a student's priority request, an instructor's "grade now", or a real-time-only course (every item). */
export type RealtimeSource = (typeof REALTIME_SOURCES)[number];

export const REALTIME_STATUSES = ['pending', 'running', 'succeeded', 'failed', 'refused'] as const;
export type RealtimeStatus = (typeof REALTIME_STATUSES)[number];

/**
 * One grading of a queue item through the provider's real-time API, at the standard (twice the batch) price.
 * pending (asked; its item moved queued → processing, out of every batch's reach) → running (a worker claimed it,
 * until `lease_until`) → succeeded (the assessment written, the charge in the ledger) | failed (the provider failed:
 * the item goes back to the queue while it has sends left) | refused (the spending gate said no, or the item was no
 * longer waiting: the item goes back to the queue, nothing charged). A student's requests this month that were not
 * refused or failed count against the course's limit.
 */
export const realtimeRequests = pgTable(
  'realtime_requests',
  {
    id: id(),
    platformId: ref('platform_id').notNull().references(() => ltiPlatforms.id),
    courseId: ref('course_id').notNull().references(() => courses.id),
    taskId: ref('task_id').notNull().references(() => tasks.id),
    queueItemId: ref('queue_item_id').notNull().references(() => queueItems.id),
    /** `qi-<item>-r<n>` (providers/custom-id.ts): the key of its ledger movements and of its assessment. */
    customId: text('custom_id').notNull().unique(),
    source: text('source').$type<RealtimeSource>().notNull(),
    /** The student or instructor who asked; null for a real-time-only course's own request. */
    requestedBy: ref('requested_by').references(() => users.id),
    status: text('status').$type<RealtimeStatus>().notNull().default('pending'),
    /** Why it failed or was refused, in words a person can act on. */
    error: text('error'),
    /** A running request whose worker died is claimed again once this has passed. */
    leaseUntil: at('lease_until'),
    assessmentId: ref('assessment_id'),
    costMicros: micros('cost_micros'),
    createdAt: createdAt(),
    startedAt: at('started_at'),
    resolvedAt: at('resolved_at'),
  },
  (t) => [
    // An item is graded by at most one real-time request at a time (with its state, one grading at all).
    uniqueIndex('realtime_requests_one_live_per_item').on(t.queueItemId).where(sql`${t.status} in ('pending', 'running')`),
    // A student's requests of the month, counted against the course's limit.
    index('realtime_requests_student_idx').on(t.courseId, t.requestedBy, t.createdAt).where(sql`${t.source} = 'student'`),
    // The sweep: requests nobody ran (a lost job, a dead worker).
    index('realtime_requests_live_idx').on(t.createdAt).where(sql`${t.status} in ('pending', 'running')`),
    check('realtime_requests_source_check', sql`${t.source} in ('student', 'instructor', 'realtime_only')`),
    check('realtime_requests_status_check', sql`${t.status} in ('pending', 'running', 'succeeded', 'failed', 'refused')`),
  ],
);
