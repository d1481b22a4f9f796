import { sql } from 'drizzle-orm';
import { check, index, integer, jsonb, pgTable, text, unique } from 'drizzle-orm/pg-core';
import { queueItems } from '../queue/queue.table.js';
import { tasks } from '../tasks/tasks.table.js';
import { promptVersions } from '../prompts/prompts.table.js';
import { at, createdAt, id, ref } from '../columns.js';
import { batches } from './batches.table.js';

// Its own file, apart from `batches`: queue items reference batches and requests reference queue items, so one
// file holding both tables would import queue.table.ts and be imported by it.

/**
 * One request line of a batch: a queue item at one attempt. custom_id is unique everywhere, which is what makes
 * ingestion idempotent: a line seen twice finds its request already resolved.
 */
export const batchRequests = pgTable(
  'batch_requests',
  {
    id: id(),
    batchId: ref('batch_id').notNull().references(() => batches.id),
    queueItemId: ref('queue_item_id').notNull().references(() => queueItems.id),
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
