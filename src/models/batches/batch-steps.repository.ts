import { sql, type SQL } from 'drizzle-orm';
import type { Db } from '../../db/db.js';
import type { BatchSnapshot } from '../../providers/index.js';
import type { RubricCriterion } from '../../grading/rubric.js';
import { needsSql, type BatchStatus } from './batch-state.js';

/**
 * The updates of a batch row that the worker's steps make (send, poll, cancel, ingest). Each is conditional on the
 * state it leaves or on the lease the caller holds, and says whether it took: of two workers, one moves the row.
 */

const msInterval = (ms: number) => sql`${ms} * interval '1 millisecond'`;

/** Gives the lease back (a failure of our own: the sweep tries again). Best effort, never throws. */
export async function releaseLease(db: Db, batchId: number, owner: string): Promise<void> {
  await db.execute(sql`update batches set lease_owner = null, lease_expires_at = null where id = ${batchId} and lease_owner = ${owner}`).catch(() => undefined);
}

/** Records a problem the administrator should read on the monitor, without changing the status. */
export async function recordBatchError(db: Db, batchId: number, message: string): Promise<void> {
  await db.execute(sql`update batches set error = ${message} where id = ${batchId}`);
}

// ---- send ----

/** created → failed for a batch that never reached the provider, under the sender's lease. */
export async function markFailedUnsent(db: Db, batchId: number, owner: string, reason: string): Promise<boolean> {
  const rows = await db.execute(sql`
    update batches set status = 'failed', error = ${reason}, finished_at = now(), ingested_at = now(), submit_attempts = submit_attempts + 1,
      lease_owner = null, lease_expires_at = null, updated_at = now()
    where id = ${batchId} and status = 'created' and provider_batch_id is null and lease_owner = ${owner}
    returning id`);
  return rows.rows.length > 0;
}

/** created → submitted with the provider's ids, and the batch's items selected → processing; once. */
export async function markSubmitted(db: Db, batchId: number, owner: string, snapshot: BatchSnapshot, inputFileId: string | null, firstPollMs: number): Promise<boolean> {
  const rows = await db.execute(sql`
    update batches set status = 'submitted', provider_batch_id = ${snapshot.providerBatchId}, input_file_id = ${inputFileId ?? snapshot.inputFileId},
      provider_status = ${snapshot.providerStatus}, submitted_at = now(), error = null,
      next_poll_at = now() + ${msInterval(firstPollMs)},
      lease_owner = null, lease_expires_at = null, updated_at = now()
    where id = ${batchId} and status = 'created' and provider_batch_id is null and lease_owner = ${owner}
    returning id`);
  if (!rows.rows.length) return false;
  await db.execute(sql`update queue_items set status = 'processing', updated_at = now() where batch_id = ${batchId} and status = 'selected'`);
  return true;
}

/**
 * Hands the lease to a "backoff" holder until the retry is due, with the reason; returns the milliseconds left on
 * the database's clock (null when the lease was lost). The hold ends on the database's clock, at microseconds, and
 * the retry is timed on ours, at whole milliseconds: so the database says how long is left.
 */
export async function holdForRetry(db: Db, batchId: number, owner: string, tries: number, holdMs: number, reason: string): Promise<number | null> {
  const held = await db.execute<{ left_ms: number }>(sql`
    update batches set submit_attempts = ${tries}, error = ${reason},
      lease_owner = 'backoff', lease_expires_at = now() + ${msInterval(holdMs)}, updated_at = now()
    where id = ${batchId} and lease_owner = ${owner}
    returning ceil(extract(epoch from lease_expires_at - clock_timestamp()) * 1000)::int as left_ms`);
  return held.rows.length ? Math.max(0, Number(held.rows[0]!.left_ms)) : null;
}

// ---- poll and cancel ----

/**
 * Writes the provider's snapshot: counts and file ids always, the status only when `moves` (the caller decided it
 * goes forward), conditional on the status read before. The status now in the row, or undefined when it changed.
 */
export async function writeSnapshot(db: Db, batchId: number, readStatus: BatchStatus, snap: BatchSnapshot, moves: boolean): Promise<BatchStatus | undefined> {
  const rows = await db.execute<{ status: BatchStatus }>(sql`
    update batches set provider_status = ${snap.providerStatus},
      request_completed = ${snap.requestCounts.completed}, request_failed = ${snap.requestCounts.failed},
      output_file_id = coalesce(${snap.outputFileId}, output_file_id), error_file_id = coalesce(${snap.errorFileId}, error_file_id),
      ${moves ? sql`status = ${snap.status},` : sql``}
      processing_at = case when ${moves && snap.status === 'processing'} then coalesce(processing_at, now()) else processing_at end,
      finished_at = case when ${moves && snap.terminal} then now() else finished_at end,
      -- A timeout's reason (written when the cancel was asked for) says more than the provider's "cancelled".
      error = case when ${moves && snap.problem !== null} and not (cancel_requested_at is not null and error is not null) then ${snap.problem} else error end,
      updated_at = now()
    where id = ${batchId} and status = ${readStatus}
    returning status`);
  return rows.rows[0]?.status;
}

/**
 * Takes this poll's slot: polls moves on from the count read and next_poll_at to the next due time, when the
 * batch still needs polling and is due (within `earlyMs`). Duplicate poll jobs collapse into one.
 */
export async function takePollSlot(db: Db, batchId: number, pollsRead: number, delayMs: number, earlyMs: number): Promise<boolean> {
  const slot = await db.execute(sql`
    update batches set polls = polls + 1, last_polled_at = now(), next_poll_at = now() + ${msInterval(delayMs)}
    where id = ${batchId} and polls = ${pollsRead} and ${needsSql('poll')} and (next_poll_at is null or next_poll_at <= now() + ${msInterval(earlyMs)})
    returning id`);
  return slot.rows.length > 0;
}

/** Asks for the cancel of a batch that ran past its state's time limit, once, with the reason (overdue: it may fail over). */
export async function markTimedOut(db: Db, batchId: number, status: BatchStatus, reason: string): Promise<boolean> {
  const marked = await db.execute(sql`
    update batches set cancel_requested_at = now(), overdue_at = now(), error = ${reason}, updated_at = now()
    where id = ${batchId} and cancel_requested_at is null and status = ${status} returning id`);
  return marked.rows.length > 0;
}

/** Takes the one cancel call to the provider (cancel_sent_at), for a batch that needs it. */
export async function takeCancelSend(db: Db, batchId: number): Promise<boolean> {
  const claimed = await db.execute(sql`
    update batches set cancel_sent_at = now(), next_poll_at = now(), updated_at = now()
    where id = ${batchId} and ${needsSql('cancel')} and provider_batch_id is not null returning id`);
  return claimed.rows.length > 0;
}

/** The cancel call failed in a way worth retrying: the next cancel step may call again. */
export async function clearCancelSend(db: Db, batchId: number): Promise<void> {
  await db.execute(sql`update batches set cancel_sent_at = null where id = ${batchId}`);
}

// ---- ingest ----

/**
 * A chunk lost to a crash right after its commit is simply applied again (its lines are still pending, its
 * position not recorded), so its transaction need not wait for the commit to reach the disk.
 */
export async function commitWithoutWaitingForDisk(tx: Db): Promise<void> {
  await tx.execute(sql`set local synchronous_commit = off`);
}

export type VersionRubric = { id: number; rubric: RubricCriterion[]; maxScore: number };

/** The rubric and maximum score of prompt versions (what judging an answer needs). */
export async function rubricsOf(db: Db, versionIds: number[]): Promise<VersionRubric[]> {
  const rows = await db.execute<{ id: number; rubric: RubricCriterion[]; max_score: number }>(sql`
    select id, rubric, max_score from prompt_versions where id = any(${sql.param(versionIds)}::bigint[])`);
  return rows.rows.map((r) => ({ id: Number(r.id), rubric: r.rubric, maxScore: Number(r.max_score) }));
}

export type IngestTotals = { lines: number; unmatchedLines: number; actualCostMicros: number; requests: Record<string, number> };

/** Marks the batch ingested and gives the lease back; null when the lease was lost or it was ingested already. */
export async function markIngested(db: Db, batchId: number, owner: string): Promise<IngestTotals | null> {
  const done = await db.execute<{ ingested_lines: number; unmatched_lines: number; actual_cost_micros: number }>(sql`
    update batches set ingested_at = now(), lease_owner = null, lease_expires_at = null, updated_at = now()
    where id = ${batchId} and lease_owner = ${owner} and ingested_at is null
    returning ingested_lines, unmatched_lines, actual_cost_micros`);
  const row = done.rows[0];
  if (!row) return null;
  const counts = await db.execute<{ status: string; n: number }>(sql`select status, count(*)::int as n from batch_requests where batch_id = ${batchId} group by status`);
  return { lines: row.ingested_lines, unmatchedLines: row.unmatched_lines, actualCostMicros: Number(row.actual_cost_micros), requests: Object.fromEntries(counts.rows.map((r) => [r.status, r.n])) };
}

// ---- provider files (data minimisation after ingestion) ----

/**
 * A batch whose files at the provider still need deleting: its results read (or it ended without any), some file
 * id known, not deleted yet, and tries left. Conditions on a `batches` row (columns unqualified), for the claim
 * and the sweep alike.
 */
export function needsFileCleanupSql(maxAttempts: number): SQL {
  return sql`(ingested_at is not null and provider_files_deleted_at is null and provider_files_delete_attempts < ${maxAttempts}
    and (input_file_id is not null or output_file_id is not null or error_file_id is not null))`;
}

/**
 * The sweep's share of the cleanup: batches whose cleanup is due (never tried, or the last failure's hold has run
 * out) and nobody holds, marked dispatched for a lease's length so the next sweep does not hand them out again.
 */
export async function dueFileCleanups(db: Db, leaseMs: number, maxAttempts: number, limit = 50): Promise<number[]> {
  const rows = await db.execute<{ id: number }>(sql`
    with due as (
      select id from batches
      where ${needsFileCleanupSql(maxAttempts)} and (lease_expires_at is null or lease_expires_at <= now())
      order by id limit ${limit}
      for update skip locked)
    update batches b set lease_owner = 'dispatched', lease_expires_at = now() + ${msInterval(leaseMs)}
    from due where b.id = due.id
    returning b.id`);
  return rows.rows.map((r) => Number(r.id));
}

/** Records the deletion, once, under the cleaner's lease, and gives the lease back; false when the lease was lost. */
export async function markProviderFilesDeleted(db: Db, batchId: number, owner: string): Promise<boolean> {
  const rows = await db.execute(sql`
    update batches set provider_files_deleted_at = now(), provider_files_delete_error = null,
      lease_owner = null, lease_expires_at = null, updated_at = now()
    where id = ${batchId} and lease_owner = ${owner} and provider_files_deleted_at is null
    returning id`);
  return rows.rows.length > 0;
}

/**
 * Counts a failed cleanup with its reason, and holds the batch (a "backoff" lease) until the retry is due, or
 * gives the lease back when no retry is left (holdMs null). The attempts so far; null when the lease was lost.
 */
export async function recordFileCleanupFailure(db: Db, batchId: number, owner: string, reason: string, holdMs: number | null): Promise<number | null> {
  const rows = await db.execute<{ attempts: number }>(sql`
    update batches set provider_files_delete_attempts = provider_files_delete_attempts + 1, provider_files_delete_error = ${reason},
      lease_owner = ${holdMs === null ? null : 'backoff'},
      lease_expires_at = ${holdMs === null ? null : sql`now() + ${msInterval(holdMs)}`}, updated_at = now()
    where id = ${batchId} and lease_owner = ${owner} and provider_files_deleted_at is null
    returning provider_files_delete_attempts as attempts`);
  return rows.rows.length ? Number(rows.rows[0]!.attempts) : null;
}

export interface FileCleanupProblem {
  id: number;
  attempts: number;
  error: string | null;
}

/** A platform's batches whose files at the provider failed to delete at least once and are still there, newest first. */
export async function fileCleanupProblems(db: Db, platformId: number, limit = 10): Promise<{ total: number; batches: FileCleanupProblem[] }> {
  const rows = await db.execute<{ id: number; attempts: number; error: string | null; total: number }>(sql`
    select id, provider_files_delete_attempts as attempts, provider_files_delete_error as error, count(*) over ()::int as total
    from batches
    where platform_id = ${platformId} and provider_files_deleted_at is null and provider_files_delete_attempts > 0
    order by id desc limit ${limit}`);
  return { total: rows.rows[0]?.total ?? 0, batches: rows.rows.map((r) => ({ id: Number(r.id), attempts: Number(r.attempts), error: r.error })) };
}
