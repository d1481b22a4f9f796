import { sql } from 'drizzle-orm';
import { boolean, check, index, integer, jsonb, numeric, pgTable, real, text, uniqueIndex } from 'drizzle-orm/pg-core';
import { users } from '../tenancy/tenancy.table.js';
import { queueItems } from '../queue/queue.table.js';
import { at, createdAt, id, micros, ref, updatedAt } from '../columns.js';
import type { AssessmentFlag } from '../../grading/rubric.js';
import type { OverrideCategory } from './override-category.js';

export const REVIEW_STATUSES = ['pending_review', 'approved', 'overridden', 'rejected'] as const;
export type ReviewStatus = (typeof REVIEW_STATUSES)[number];
export const SYNC_STATUSES = ['none', 'pending', 'synced', 'failed'] as const;
export type SyncStatus = (typeof SYNC_STATUSES)[number];
/** Who grades: the model through a batch (`llm`), or the instructor by hand (`manual`: no queue item, no prompt). */
export const ASSESSMENT_KINDS = ['llm', 'manual'] as const;
export type AssessmentKind = (typeof ASSESSMENT_KINDS)[number];

/**
 * The result of one queue item attempt. The model's validated answer (`result`) is never changed: a human
 * override is stored beside it, so the original stays for audit and agreement statistics.
 */
export const assessments = pgTable(
  'assessments',
  {
    id: id(),
    // Platform, course, task, submission, prompt version and batch are copies of the queue item's, taken from it by
    // the one statement that writes assessments (insertAssessmentsSql), never from its caller; the queue item's own
    // foreign keys vouch for them. Not re-checked here: ingestion inserts tens of thousands of rows, and five checks
    // per row that cannot fail were most of its cost; the batch's check, the same batch row for every row, was ~5 %
    // of the database's time more. (The batch: an item is in one batch at a time, the one whose result this is; its
    // request there is still pending when the result is recorded.)
    kind: text('kind').$type<AssessmentKind>().notNull().default('llm'),
    platformId: ref('platform_id').notNull(),
    courseId: ref('course_id').notNull(),
    taskId: ref('task_id').notNull(),
    submissionId: ref('submission_id').notNull(),
    // Null only for a manual assessment (kind 'manual'), which no queue item, request or prompt made.
    queueItemId: ref('queue_item_id').references(() => queueItems.id),
    batchId: ref('batch_id'),
    customId: text('custom_id').unique(),
    promptVersionId: ref('prompt_version_id'),
    model: text('model').notNull(),
    /** The validated structured answer; null when the output could not be parsed (then raw_output says why). */
    result: jsonb('result').$type<Record<string, unknown>>(),
    /** Encrypted, as override_feedback and override_reason (`enc:<key id>:…`, models/assessments/assessment-texts.ts). */
    rawOutput: text('raw_output'),
    score: numeric('score', { precision: 8, scale: 2, mode: 'number' }),
    maxScore: numeric('max_score', { precision: 8, scale: 2, mode: 'number' }).notNull(),
    modelConfidence: real('model_confidence'),
    computedConfidence: real('computed_confidence'),
    flags: jsonb('flags').$type<AssessmentFlag[]>().notNull().default(sql`'[]'::jsonb`),
    needsReview: boolean('needs_review').notNull().default(false),
    inputTokens: integer('input_tokens').notNull().default(0),
    cachedInputTokens: integer('cached_input_tokens').notNull().default(0),
    outputTokens: integer('output_tokens').notNull().default(0),
    actualCostMicros: micros('actual_cost_micros').notNull().default(0),
    reviewStatus: text('review_status').$type<ReviewStatus>().notNull().default('pending_review'),
    reviewedBy: ref('reviewed_by').references(() => users.id),
    reviewedAt: at('reviewed_at'),
    reviewNote: text('review_note'),
    /**
     * Bumped by every review decision. A decision form carries the number it was made from, so a double submit
     * or two reviewers at once apply one decision only; grade sync records which decision it posted.
     */
    decisionSeq: integer('decision_seq').notNull().default(0),
    /** Where a rejected assessment went: back to the LLM queue, or to the instructor for manual grading. */
    rejectedTo: text('rejected_to').$type<'queue' | 'manual'>(),
    overrideScore: numeric('override_score', { precision: 8, scale: 2, mode: 'number' }),
    overrideCriteria: jsonb('override_criteria').$type<Record<string, number>>(),
    overrideFeedback: text('override_feedback'),
    overrideReason: text('override_reason'),
    /** What was wrong with the model's grade (override-category.ts); null for a manual grade and for overrides before 0023. */
    overrideCategory: text('override_category').$type<OverrideCategory>(),
    releasedAt: at('released_at'),
    /** An identical earlier request's assessment whose answer this one reuses (nothing sent, nothing charged). */
    reusedFromId: ref('reused_from_id'),
    gradeSyncStatus: text('grade_sync_status').$type<SyncStatus>().notNull().default('none'),
    gradeSyncAttempts: integer('grade_sync_attempts').notNull().default(0),
    gradeSyncError: text('grade_sync_error'),
    gradeSyncedAt: at('grade_synced_at'),
    gradeSyncedScore: numeric('grade_synced_score', { precision: 8, scale: 2, mode: 'number' }),
    /** The decision (decision_seq) the gradebook holds: a later decision makes the sync pending again. */
    gradeSyncedSeq: integer('grade_synced_seq'),
    /** When the next sync attempt is due (backoff after a failure). */
    gradeSyncNextAt: at('grade_sync_next_at'),
    /** A worker posting this grade holds it until then: two workers never post the same decision at once. */
    gradeSyncLeaseUntil: at('grade_sync_lease_until'),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    index('assessments_course_review_idx').on(t.courseId, t.reviewStatus, t.createdAt),
    index('assessments_submission_idx').on(t.submissionId),
    // A queue item is completed by its first usable answer and never sent again: one assessment per item, enforced.
    uniqueIndex('assessments_queue_item_key').on(t.queueItemId),
    // A submission waiting for hand grading has one manual assessment.
    uniqueIndex('assessments_manual_submission_key').on(t.submissionId).where(sql`${t.kind} = 'manual'`),
    check('assessments_kind_check', sql`${t.kind} in ('llm', 'manual')`),
    check('assessments_llm_source_check', sql`${t.kind} = 'manual' or (${t.queueItemId} is not null and ${t.customId} is not null and ${t.promptVersionId} is not null)`),
    index('assessments_batch_idx').on(t.batchId),
    // The grade-sync sweep: pending syncs that are due.
    index('assessments_grade_sync_due_idx').on(t.gradeSyncNextAt).where(sql`${t.gradeSyncStatus} = 'pending'`),
    // Recent answers of a prompt version: their mean output tokens make the next estimates.
    index('assessments_prompt_version_idx').on(t.promptVersionId, t.id),
    check('assessments_review_status_check', sql`${t.reviewStatus} in ('pending_review', 'approved', 'overridden', 'rejected')`),
    check('assessments_sync_status_check', sql`${t.gradeSyncStatus} in ('none', 'pending', 'synced', 'failed')`),
    check('assessments_rejected_to_check', sql`${t.rejectedTo} is null or ${t.rejectedTo} in ('queue', 'manual')`),
    // The model's grade changed by hand needs a reason; a grade given by hand in the first place does not.
    check('assessments_override_category_check', sql`${t.overrideCategory} is null or ${t.overrideCategory} in ('too_harsh', 'too_lenient', 'missed_criterion', 'misread', 'off_topic', 'other')`),
    check('assessments_override_reason_check', sql`${t.kind} = 'manual' or ${t.overrideScore} is null or ${t.overrideReason} is not null`),
  ],
);

