import { sql } from 'drizzle-orm';
import { type AnyPgColumn, check, index, integer, pgTable, text, uniqueIndex } from 'drizzle-orm/pg-core';
import { ltiPlatforms, users } from '../tenancy/tenancy.table.js';
import { at, createdAt, id, micros, ref, updatedAt } from '../columns.js';
import { BATCH_STATUSES, statusLiterals, type BatchStatus } from './batch-state.js';

/** A provider batch: created → submitted → processing → completed | failed | cancelled | expired (batch-state.ts). */
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
    /**
     * Data minimisation at the provider: when the batch's input, output and error files were deleted there after
     * ingestion (or after the batch ended without results). Null: not yet; the cleanup job retries, and
     * administrators see the attempts and the last error.
     */
    providerFilesDeletedAt: at('provider_files_deleted_at'),
    providerFilesDeleteAttempts: integer('provider_files_delete_attempts').notNull().default(0),
    providerFilesDeleteError: text('provider_files_delete_error'),
    requestTotal: integer('request_total').notNull().default(0),
    requestCompleted: integer('request_completed').notNull().default(0),
    requestFailed: integer('request_failed').notNull().default(0),
    estCostMicros: micros('est_cost_micros').notNull().default(0),
    actualCostMicros: micros('actual_cost_micros').notNull().default(0),
    inputTokens: integer('input_tokens').notNull().default(0),
    outputTokens: integer('output_tokens').notNull().default(0),
    createdBy: ref('created_by').references(() => users.id),
    notes: text('notes').notNull().default(''),
    /**
     * An emergency override (issue 16, item 4): an administrator's reason for sending these items past a freeze or
     * a spent budget. Such a batch is neither refused nor held by budgets; a monthly cap bounds it instead.
     */
    overrideReason: text('override_reason'),
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
    /**
     * Failover (issue 20, item 6): the batch whose unfinished items this one carries to another provider, and why;
     * or, for a batch made while its items' provider was marked unhealthy, only why it went elsewhere.
     */
    failedOverFrom: ref('failed_over_from').references((): AnyPgColumn => batches.id),
    failoverReason: text('failover_reason'),
    /** When the batch was found past its time limit (the platform's SLA, or a state's timeout) and cancelled for it. */
    overdueAt: at('overdue_at'),
    ingestedLines: integer('ingested_lines').notNull().default(0),
    unmatchedLines: integer('unmatched_lines').notNull().default(0),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    index('batches_platform_idx').on(t.platformId, t.createdAt),
    // The worker's sweep looks only at batches with work left: unfinished, or finished and not yet ingested.
    index('batches_open_idx').on(t.id).where(sql`${t.ingestedAt} is null`),
    // A batch fails over once: its unfinished items go into one batch at one provider.
    uniqueIndex('batches_failed_over_from_key').on(t.failedOverFrom).where(sql`${t.failedOverFrom} is not null`),
    check('batches_status_check', sql`${t.status} in (${statusLiterals(BATCH_STATUSES)})`),
  ],
);
