import { and, desc, eq, sql, type SQL } from 'drizzle-orm';
import type { Db } from '../../db/db.js';
import { selectionCondition } from '../queue/queue.repository.js';
import type { Selection } from '../queue/queue.schema.js';
import { TERMINAL_SQL } from './batch-state.js';
import { batches } from './batches.table.js';

export type BatchRow = typeof batches.$inferSelect;

export async function findBatch(db: Db, platformId: number, id: number): Promise<BatchRow | undefined> {
  const [row] = await db.select().from(batches).where(and(eq(batches.id, id), eq(batches.platformId, platformId)));
  return row;
}

export async function findBatchById(db: Db, id: number): Promise<BatchRow | undefined> {
  const [row] = await db.select().from(batches).where(eq(batches.id, id));
  return row;
}

export async function listBatches(db: Db, platformId: number, limit = 100, offset = 0): Promise<BatchRow[]> {
  return db.select().from(batches).where(eq(batches.platformId, platformId)).orderBy(desc(batches.id)).limit(limit).offset(offset);
}

/** The platform's batches that have not finished (unsent, held, at the provider, being cancelled), oldest first. */
export async function listOpenBatches(db: Db, platformId: number, limit = 200): Promise<BatchRow[]> {
  return db.select().from(batches).where(and(eq(batches.platformId, platformId), sql`not ${TERMINAL_SQL}`)).orderBy(batches.id).limit(limit);
}

/**
 * What the budgets left queued when these batches were made (recorded in their 'batch.created' audit entries),
 * or null: the batches page says it after a selection became a smaller batch.
 */
export async function leftQueuedWhenCreated(db: Db, platformId: number, batchIds: number[]): Promise<Record<string, unknown> | null> {
  if (!batchIds.length) return null;
  const rows = await db.execute<{ left: Record<string, unknown> }>(sql`
    select details->'leftQueued' as left from audit_log
    where platform_id = ${platformId} and action = 'batch.created' and entity_type = 'batch'
      and entity_id = any(${sql.param(batchIds.map(String))}::text[]) and details ? 'leftQueued'
    limit 1`);
  return rows.rows[0]?.left ?? null;
}

export interface EstimateAccuracy {
  /** Requests with both an estimate (their reservation) and an actual charge. */
  charged: number;
  estimatedMicros: number;
  actualMicros: number;
  /** Median of |estimate − actual| / actual over those requests; null when none. */
  medianAbsError: number | null;
}

/**
 * How right a batch's estimates were: each charged request's reservation (its estimate when the batch was made)
 * beside its charge, found by the ledger's keys (one unique-index probe each), through the batch's requests.
 */
export async function estimateAccuracy(db: Db, batchId: number): Promise<EstimateAccuracy> {
  const rows = await db.execute<{ charged: number; estimated: number; actual: number; median: number | null }>(sql`
    select count(*)::int as charged, coalesce(sum(r.amount_micros), 0)::int8 as estimated, coalesce(sum(c.amount_micros), 0)::int8 as actual,
           percentile_cont(0.5) within group (order by abs(r.amount_micros - c.amount_micros)::float8 / nullif(c.amount_micros, 0)) as median
    from batch_requests br
    join cost_ledger c on c.idempotency_key = 'charge:' || br.custom_id
    join cost_ledger r on r.idempotency_key = 'reserve:' || br.custom_id
    where br.batch_id = ${batchId}`);
  const r = rows.rows[0]!;
  return { charged: Number(r.charged), estimatedMicros: Number(r.estimated), actualMicros: Number(r.actual), medianAbsError: r.median == null ? null : Number(r.median) };
}

export async function countBatches(db: Db, platformId: number): Promise<number> {
  const [row] = await db.select({ n: sql<number>`count(*)::int` }).from(batches).where(eq(batches.platformId, platformId));
  return Number(row?.n ?? 0);
}

/**
 * Takes the work lease of a batch when it is free (never taken, run out, or only marked "dispatched" by the sweep)
 * and `extra` holds. One conditional update: of two workers asking at once, one gets the row, the other nothing.
 */
export async function claimLease(db: Db, id: number, owner: string, leaseMs: number, extra: SQL): Promise<BatchRow | undefined> {
  const rows = await db.execute<Record<string, unknown>>(sql`
    update batches set lease_owner = ${owner}, lease_expires_at = now() + ${leaseMs} * interval '1 millisecond', updated_at = now()
    where id = ${id} and (lease_expires_at is null or lease_expires_at <= now() or lease_owner = 'dispatched') and (${extra})
    returning id`);
  if (!rows.rows.length) return undefined;
  return findBatchById(db, id);
}

/** Extends a held lease; false when another worker has taken it meanwhile. */
export async function renewLease(db: Db, id: number, owner: string, leaseMs: number): Promise<boolean> {
  const rows = await db.execute(sql`
    update batches set lease_expires_at = now() + ${leaseMs} * interval '1 millisecond' where id = ${id} and lease_owner = ${owner} returning id`);
  return rows.rows.length > 0;
}

export interface BatchItemCounts {
  total: number;
  pending: number;
  succeeded: number;
  failed: number;
  notRun: number;
}

/** The requests of a batch by outcome (what the monitor's progress bar shows after ingestion). */
export async function requestCounts(db: Db, batchId: number): Promise<BatchItemCounts> {
  const rows = await db.execute<{ total: number; pending: number; succeeded: number; failed: number; not_run: number }>(sql`
    select count(*)::int as total,
           count(*) filter (where status = 'pending')::int as pending,
           count(*) filter (where status = 'succeeded')::int as succeeded,
           count(*) filter (where status = 'failed')::int as failed,
           count(*) filter (where status in ('expired', 'cancelled'))::int as not_run
    from batch_requests where batch_id = ${batchId}`);
  const r = rows.rows[0];
  return { total: r?.total ?? 0, pending: r?.pending ?? 0, succeeded: r?.succeeded ?? 0, failed: r?.failed ?? 0, notRun: r?.not_run ?? 0 };
}

export interface BatchCourseShare {
  courseId: number;
  courseTitle: string;
  items: number;
  estCostMicros: number;
}

export async function batchCourses(db: Db, batchId: number): Promise<BatchCourseShare[]> {
  const rows = await db.execute<{ course_id: number; title: string; n: number; cost: number }>(sql`
    select q.course_id, c.title, count(*)::int as n, sum(q.est_cost_micros)::int8 as cost
    from batch_requests br join queue_items q on q.id = br.queue_item_id join courses c on c.id = q.course_id
    where br.batch_id = ${batchId} group by q.course_id, c.title order by c.title`);
  return rows.rows.map((r) => ({ courseId: Number(r.course_id), courseTitle: r.title, items: r.n, estCostMicros: Number(r.cost) }));
}

export interface RequestProblem {
  customId: string;
  queueItemId: number;
  status: string;
  errorCode: string | null;
  errorMessage: string | null;
}

/** Requests of a batch that did not succeed, with the provider's reason (the monitor's error list). */
export async function requestProblems(db: Db, batchId: number, limit = 50): Promise<RequestProblem[]> {
  const rows = await db.execute<{ custom_id: string; queue_item_id: number; status: string; error_code: string | null; error_message: string | null }>(sql`
    select custom_id, queue_item_id, status, error_code, error_message from batch_requests
    where batch_id = ${batchId} and status in ('failed', 'expired', 'cancelled') order by id limit ${limit}`);
  return rows.rows.map((r) => ({ customId: r.custom_id, queueItemId: Number(r.queue_item_id), status: r.status, errorCode: r.error_code, errorMessage: r.error_message }));
}

/** The platform's last batches, newest first, as the ETA reads them. */
export async function recentBatchFigures(db: Db, platformId: number, limit: number): Promise<Array<{ created_at: Date; request_total: number; submitted_at: Date | null; finished_at: Date | null; status: string }>> {
  const rows = await db.execute<{ created_at: Date; request_total: number; submitted_at: Date | null; finished_at: Date | null; status: string }>(sql`
    select created_at, request_total, submitted_at, finished_at, status from batches
    where platform_id = ${platformId} order by created_at desc limit ${limit}`);
  return rows.rows;
}

// ---- an administrator's batch actions (batches.service.ts) ----

export type SelectedItem = {
  id: number;
  status: string;
  course_id: number;
  task_id: number;
  prompt_version_id: number;
  course_title: string;
  /** Requests ever made for the item, sent or not: the next one's custom id must be new (attempts can go back). */
  requests_made: number;
  /** The prompt version's provider: where the item's batch goes. */
  provider: string;
  model: string;
  attempts: number;
  est_cost_micros: number;
  est_input_tokens: number;
  est_output_tokens: number;
  /** Its prompt version's cap on output tokens (what an estimate never exceeds). */
  max_output_tokens: number;
  due: boolean;
  est_bytes: number;
};

/**
 * The selected queue items with what deciding on a batch needs (status, due, estimates and an
 * estimated line size), locked (`for update`) so a concurrent skip or a second batch waits and then sees them
 * taken. `dueOnly`: only queued items that are due ("all matching" never picks up what it cannot send).
 */
export async function lockItemsForBatch(db: Db, platformId: number, selection: Selection, dueOnly: boolean): Promise<SelectedItem[]> {
  const rows = await db.execute<SelectedItem>(sql`
    select q.id, q.status, q.course_id, q.task_id, q.prompt_version_id, c.title as course_title,
           (select count(*) from batch_requests br where br.queue_item_id = q.id)::int as requests_made, pv.provider, q.model, q.attempts, q.est_cost_micros, q.est_input_tokens,
           q.est_output_tokens, pv.max_output_tokens,
           (q.not_before is null or q.not_before <= now()) as due,
           (s.char_count * 3 + length(pv.template) + length(pv.system_instructions) + length(pv.grader_instructions)
             + length(pv.output_schema::text) + length(pv.rubric::text) + length(t.title) + length(t.description) + 1000)::int as est_bytes
    from queue_items q
    join submissions s on s.id = q.submission_id
    join prompt_versions pv on pv.id = q.prompt_version_id
    join tasks t on t.id = q.task_id
    join courses c on c.id = q.course_id
    where ${selectionCondition(platformId, selection)}
      ${dueOnly ? sql`and q.status = 'queued' and (q.not_before is null or q.not_before <= now())` : sql``}
    order by q.priority_rank, q.created_at, q.id
    for update of q`);
  return rows.rows.map((r) => ({ ...r, id: Number(r.id), course_id: Number(r.course_id), task_id: Number(r.task_id), prompt_version_id: Number(r.prompt_version_id), est_cost_micros: Number(r.est_cost_micros) }));
}

export type NewBatchRequest = { item: number; task: number; promptVersion: number; attempt: number; customId: string };

/**
 * A new batch (status created) with its requests, its items moved queued → selected. The number of items moved:
 * fewer than the requests means some left the queue meanwhile (the caller refuses the whole batch).
 */
export async function insertBatchWithRequests(
  db: Db,
  batch: { platformId: number; provider: string; model: string; estCostMicros: number; estInputTokens: number; createdBy: number | null; notes: string; overrideReason: string | null },
  requests: NewBatchRequest[],
): Promise<{ batchId: number; moved: number }> {
  const [row] = (
    await db.execute<{ id: number }>(sql`
      insert into batches (platform_id, provider, model, status, request_total, est_cost_micros, est_input_tokens, created_by, notes, override_reason)
      values (${batch.platformId}, ${batch.provider}, ${batch.model}, 'created', ${requests.length}, ${batch.estCostMicros}, ${batch.estInputTokens}, ${batch.createdBy}, ${batch.notes},
              ${batch.overrideReason})
      returning id`)
  ).rows;
  const batchId = Number(row!.id);
  const items = requests.map((r) => r.item);
  await db.execute(sql`
    insert into batch_requests (batch_id, queue_item_id, task_id, prompt_version_id, attempt, custom_id)
    select ${batchId}, r.item, r.task, r.prompt_version, r.attempt, r.custom_id
    from unnest(${sql.param(items)}::bigint[], ${sql.param(requests.map((r) => r.task))}::bigint[], ${sql.param(requests.map((r) => r.promptVersion))}::bigint[],
      ${sql.param(requests.map((r) => r.attempt))}::int[], ${sql.param(requests.map((r) => r.customId))}::text[]) as r(item, task, prompt_version, attempt, custom_id)`);
  const moved = await db.execute(sql`
    update queue_items set status = 'selected', batch_id = ${batchId}, attempts = attempts + 1, updated_at = now()
    where id = any(${sql.param(items)}::bigint[]) and status = 'queued'
    returning id`);
  return { batchId, moved: moved.rows.length };
}

/** The one submit of a newly created batch that nobody is cancelling; false when it is not (any more) that. */
export async function markSubmitRequested(db: Db, platformId: number, batchId: number, userId: number): Promise<boolean> {
  const rows = await db.execute(sql`
    update batches set submit_requested_at = now(), submit_requested_by = ${userId}, updated_at = now()
    where id = ${batchId} and platform_id = ${platformId} and status = 'created' and submit_requested_at is null and cancel_requested_at is null
    returning id`);
  return rows.rows.length > 0;
}

/** created → cancelled for a batch never sent that no worker is sending now (the send lease); its platform, or null. */
export async function markCancelledUnsent(db: Db, batchId: number, reason: string): Promise<number | null> {
  const rows = await db.execute<{ platform_id: number }>(sql`
    update batches set status = 'cancelled', finished_at = now(), ingested_at = now(), error = ${reason}, lease_owner = null, lease_expires_at = null, updated_at = now()
    where id = ${batchId} and status = 'created' and provider_batch_id is null
      and (lease_expires_at is null or lease_expires_at <= now() or lease_owner in ('dispatched', 'backoff'))
    returning platform_id`);
  return rows.rows.length ? Number(rows.rows[0]!.platform_id) : null;
}

/** Closes a never-sent batch's pending requests and puts its items back in the queue; the closed custom ids. */
export async function closeUnsentRequests(db: Db, batchId: number, requestStatus: 'cancelled' | 'failed', reason: string): Promise<string[]> {
  const requests = await db.execute<{ custom_id: string }>(sql`
    update batch_requests set status = ${requestStatus}, error_code = 'not_sent', error_message = ${reason}, resolved_at = now()
    where batch_id = ${batchId} and status = 'pending' returning custom_id`);
  // Never sent, so not an attempt: the item's count of sends goes back (a cancelled batch is not "1 of 3 used").
  await db.execute(sql`
    update queue_items set status = 'queued', batch_id = null, last_error = ${reason}, attempts = greatest(attempts - 1, 0), updated_at = now()
    where batch_id = ${batchId} and status in ('selected', 'processing')`);
  return requests.rows.map((r) => r.custom_id);
}

/** Marks a batch that has not finished for cancelling (a worker tells the provider); false when it cannot be. */
export async function markCancelRequested(db: Db, platformId: number, batchId: number): Promise<boolean> {
  const rows = await db.execute(sql`
    update batches set cancel_requested_at = now(), updated_at = now()
    where id = ${batchId} and platform_id = ${platformId} and not ${TERMINAL_SQL} and cancel_requested_at is null
    returning id`);
  return rows.rows.length > 0;
}

export async function updateBatchNotes(db: Db, platformId: number, batchId: number, notes: string): Promise<boolean> {
  const rows = await db.execute(sql`update batches set notes = ${notes}, updated_at = now() where id = ${batchId} and platform_id = ${platformId} returning id`);
  return rows.rows.length > 0;
}
