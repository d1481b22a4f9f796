import { sql } from 'drizzle-orm';
import { type AnyPgColumn, check, index, integer, jsonb, pgTable, text, unique } from 'drizzle-orm/pg-core';
import { ltiPlatforms, users } from '../tenancy/tenancy.table.js';
import { queueItems } from '../queue/queue.table.js';
import { tasks } from '../tasks/tasks.table.js';
import { promptVersions } from '../prompts/prompts.table.js';
import { at, createdAt, id, micros, ref, updatedAt } from '../columns.js';

export const BATCH_STATUSES = ['created', 'submitted', 'processing', 'completed', 'failed', 'cancelled', 'expired'] as const;
export type BatchStatus = (typeof BATCH_STATUSES)[number];

/** A provider batch: created → submitted → processing → completed | failed | cancelled | expired. */
export const batches = pgTable(
  'batches',
  {
    id: id(),
    platformId: ref('platform_id').notNull().references(() => ltiPlatforms.id),
    provider: text('provider').notNull(),
    model: text('model').notNull(),
    status: text('status').$type<BatchStatus>().notNull().default('created'),
    /** The provider's own status word, kept verbatim (it may be one we do not know yet). */
    providerStatus: text('provider_status'),
    providerBatchId: text('provider_batch_id').unique(),
    inputFileId: text('input_file_id'),
    outputFileId: text('output_file_id'),
    errorFileId: text('error_file_id'),
    requestTotal: integer('request_total').notNull().default(0),
    requestCompleted: integer('request_completed').notNull().default(0),
    requestFailed: integer('request_failed').notNull().default(0),
    estCostMicros: micros('est_cost_micros').notNull().default(0),
    actualCostMicros: micros('actual_cost_micros').notNull().default(0),
    inputTokens: integer('input_tokens').notNull().default(0),
    outputTokens: integer('output_tokens').notNull().default(0),
    createdBy: ref('created_by').references(() => users.id),
    notes: text('notes').notNull().default(''),
    error: text('error'),
    cancelRequestedAt: at('cancel_requested_at'),
    /** When the cancel was sent to the provider (it then reports cancelling, and later cancelled). */
    cancelSentAt: at('cancel_sent_at'),
    submittedAt: at('submitted_at'),
    processingAt: at('processing_at'),
    finishedAt: at('finished_at'),
    ingestedAt: at('ingested_at'),
    lastPolledAt: at('last_polled_at'),
    /** An administrator confirmed sending (the explicit step after seeing the estimate); the worker sends it. */
    submitRequestedAt: at('submit_requested_at'),
    submitRequestedBy: ref('submit_requested_by').references(() => users.id),
    /** Tries to upload and create at the provider that failed with a retryable error. */
    submitAttempts: integer('submit_attempts').notNull().default(0),
    /**
     * A work lease (send, ingest, cancel): one worker at a time, taken and renewed with a conditional update, and
     * free again when it runs out, so a worker that dies mid-work is replaced rather than waited for.
     */
    leaseOwner: text('lease_owner'),
    leaseExpiresAt: at('lease_expires_at'),
    /** When the provider should next be asked about this batch; polls back off as the batch ages. */
    nextPollAt: at('next_poll_at'),
    polls: integer('polls').notNull().default(0),
    estInputTokens: integer('est_input_tokens').notNull().default(0),
    /** Result lines read so far (progress of ingestion), and lines that matched no request of this batch. */
    ingestedLines: integer('ingested_lines').notNull().default(0),
    unmatchedLines: integer('unmatched_lines').notNull().default(0),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    index('batches_platform_idx').on(t.platformId, t.createdAt),
    // The worker's sweep looks only at batches with work left: unfinished, or finished and not yet ingested.
    index('batches_open_idx').on(t.id).where(sql`${t.ingestedAt} is null`),
    check(
      'batches_status_check',
      sql`${t.status} in ('created', 'submitted', 'processing', 'completed', 'failed', 'cancelled', 'expired')`,
    ),
  ],
);

/**
 * One request line of a batch: a queue item at one attempt. custom_id is unique everywhere, which is what makes
 * ingestion idempotent: a line seen twice finds its request already resolved.
 */
export const batchRequests = pgTable(
  'batch_requests',
  {
    id: id(),
    batchId: ref('batch_id').notNull().references(() => batches.id),
    queueItemId: ref('queue_item_id').notNull().references((): AnyPgColumn => queueItems.id),
    /** The item's task and prompt version, copied when the batch is made: ingestion finds a line's rubric and release policy from the request alone. */
    taskId: ref('task_id').notNull().references(() => tasks.id),
    promptVersionId: ref('prompt_version_id').notNull().references(() => promptVersions.id),
    attempt: integer('attempt').notNull(),
    customId: text('custom_id').notNull().unique(),
    status: text('status').$type<'pending' | 'succeeded' | 'failed' | 'expired' | 'cancelled'>().notNull().default('pending'),
    errorCode: text('error_code'),
    errorMessage: text('error_message'),
    /**
     * What the injection scan found in the text as sent (src/grading/injection.ts), written when the request line
     * is built, where the text is decrypted anyway: ingestion reads it with the request and never decrypts. Null
     * when nothing was found, or for requests sent before the scan existed.
     */
    injectionScan: jsonb('injection_scan').$type<{ risk: number; signals: Array<{ kind: string; weight: number }> }>(),
    createdAt: createdAt(),
    resolvedAt: at('resolved_at'),
  },
  (t) => [
    unique('batch_requests_batch_item_key').on(t.batchId, t.queueItemId),
    index('batch_requests_item_idx').on(t.queueItemId),
    check('batch_requests_status_check', sql`${t.status} in ('pending', 'succeeded', 'failed', 'expired', 'cancelled')`),
  ],
);
