import { sql } from 'drizzle-orm';
import type { Db } from '../../db/db.js';
import type { QueueStatus } from '../queue/queue.table.js';
import type { RealtimeSource } from './escalation.table.js';

/**
 * The SQL of real-time gradings (escalation.service.ts asks for one, realtime-grading.service.ts runs it). Every
 * state change is conditional on the state it leaves: the item queued → processing only while it is in no batch,
 * the request pending → running once, the result written only while the item is still this request's.
 */

export type WaitingItem = {
  id: number;
  status: QueueStatus;
  batch_id: number | null;
  platform_id: number;
  course_id: number;
  task_id: number;
  student_id: number;
  model: string;
  provider: string;
  est_input_tokens: number;
  max_output_tokens: number;
};

/**
 * The latest queue item of a submission, locked (`for update`) until the transaction ends: a second request for it
 * (a double click, a batch being made) waits, then sees what the first did.
 */
export async function lockLatestItem(db: Db, submissionId: number): Promise<WaitingItem | undefined> {
  const rows = await db.execute<WaitingItem>(sql`
    select q.id, q.status, q.batch_id, q.platform_id, q.course_id, q.task_id, s.student_id, q.model, pv.provider, q.est_input_tokens, pv.max_output_tokens
    from queue_items q join prompt_versions pv on pv.id = q.prompt_version_id join submissions s on s.id = q.submission_id
    where q.submission_id = ${submissionId}
    order by q.id desc limit 1
    for update of q`);
  const r = rows.rows[0];
  return r && { ...r, id: Number(r.id), batch_id: r.batch_id == null ? null : Number(r.batch_id), platform_id: Number(r.platform_id), course_id: Number(r.course_id), task_id: Number(r.task_id), student_id: Number(r.student_id) };
}

/** One student's priority requests in a course at a time: counting them and adding one is one step. */
export async function lockStudentEscalations(db: Db, courseId: number, studentId: number): Promise<void> {
  await db.execute(sql`select pg_advisory_xact_lock(hashtextextended(${`escalate:${courseId}:${studentId}`}, 0))`);
}

/** A student's priority requests this calendar month (UTC) in a course that count: not refused, not failed. */
export async function countStudentRequests(db: Db, courseId: number, studentId: number): Promise<number> {
  const rows = await db.execute<{ n: number }>(sql`
    select count(*)::int as n from realtime_requests
    where course_id = ${courseId} and requested_by = ${studentId} and source = 'student'
      and created_at >= (date_trunc('month', now() at time zone 'UTC') at time zone 'UTC')
      and status in ('pending', 'running', 'succeeded')`);
  return Number(rows.rows[0]?.n ?? 0);
}

/** How many real-time requests the item has had (the next one's custom id must be new). */
export async function countItemRequests(db: Db, queueItemId: number): Promise<number> {
  const rows = await db.execute<{ n: number }>(sql`select count(*)::int as n from realtime_requests where queue_item_id = ${queueItemId}`);
  return Number(rows.rows[0]?.n ?? 0);
}

/**
 * The item leaves the queue for a real-time grading (queued → processing, only while it is in no batch) and its
 * request is written, in one statement. Null when the item was not waiting any more.
 */
export async function insertRealtimeRequest(db: Db, queueItemId: number, request: { customId: string; source: RealtimeSource; requestedBy: number | null; note: string }): Promise<number | null> {
  const rows = await db.execute<{ id: number }>(sql`
    with moved as (
      update queue_items set status = 'processing', updated_at = now(),
             admin_notes = case when admin_notes = '' then ${request.note} else admin_notes || E'\\n' || ${request.note} end
      where id = ${queueItemId} and status = 'queued' and batch_id is null
      returning id, platform_id, course_id, task_id)
    insert into realtime_requests (platform_id, course_id, task_id, queue_item_id, custom_id, source, requested_by)
    select platform_id, course_id, task_id, id, ${request.customId}, ${request.source}, ${request.requestedBy} from moved
    returning id`);
  return rows.rows.length ? Number(rows.rows[0]!.id) : null;
}

export type ClaimedRequest = { id: number; queue_item_id: number; custom_id: string; source: RealtimeSource; requested_by: number | null };

/**
 * pending → running, or a running request whose worker's lease ran out: the one worker that gets it runs it. Null
 * when it is not (any more) to run.
 */
export async function claimRequest(db: Db, requestId: number, leaseMs: number): Promise<ClaimedRequest | null> {
  const rows = await db.execute<ClaimedRequest>(sql`
    update realtime_requests set status = 'running', started_at = now(), lease_until = now() + ${leaseMs} * interval '1 millisecond'
    where id = ${requestId} and (status = 'pending' or (status = 'running' and lease_until < now()))
    returning id, queue_item_id, custom_id, source, requested_by`);
  const r = rows.rows[0];
  return r ? { ...r, id: Number(r.id), queue_item_id: Number(r.queue_item_id), requested_by: r.requested_by == null ? null : Number(r.requested_by) } : null;
}

/** A running request resolved (failed or refused), with why; once. */
export async function resolveRequest(db: Db, requestId: number, status: 'failed' | 'refused', error: string): Promise<boolean> {
  const rows = await db.execute(sql`
    update realtime_requests set status = ${status}, error = ${error}, resolved_at = now(), lease_until = null
    where id = ${requestId} and status in ('pending', 'running') returning id`);
  return rows.rows.length > 0;
}

/** The request succeeded: its assessment and what it cost. */
export async function markSucceeded(db: Db, requestId: number, assessmentId: number | null, costMicros: number): Promise<void> {
  await db.execute(sql`
    update realtime_requests set status = 'succeeded', assessment_id = ${assessmentId}, cost_micros = ${costMicros}, resolved_at = now(), lease_until = null
    where id = ${requestId} and status = 'running'`);
}

/** The graded item: processing → completed, one send used, only while it is still the real-time grading's. */
export async function completeRealtimeItem(db: Db, queueItemId: number): Promise<boolean> {
  const rows = await db.execute(sql`
    update queue_items set status = 'completed', completed_at = now(), attempts = attempts + 1, last_error = null, updated_at = now()
    where id = ${queueItemId} and status = 'processing' and batch_id is null returning id`);
  return rows.rows.length > 0;
}

/**
 * The item back from a real-time grading that did not grade it: to the queue (not before `notBefore`, first in
 * line when a person asked), or failed (a dead letter, with the reason) when the failed call used its last send or
 * failed for good (`final`: a text that is gone will not come back). A refusal (`usedSend` false) costs no send.
 * Returns the item's new status, or null when it was not this grading's any more.
 */
export async function returnRealtimeItem(db: Db, queueItemId: number, back: { usedSend: boolean; final: boolean; message: string; notBefore: Date | null; first: boolean }): Promise<QueueStatus | null> {
  const send = back.usedSend ? 1 : 0;
  const outOfSends = sql`(${back.usedSend}::boolean and attempts + ${send} >= max_attempts)`;
  const rows = await db.execute<{ status: QueueStatus }>(sql`
    update queue_items set
      attempts = attempts + ${send},
      status = case when ${back.final}::boolean or ${outOfSends} then 'failed' else 'queued' end,
      last_error = case when ${outOfSends} and not ${back.final}::boolean
        then 'Failed ' || (attempts + 1) || ' time' || case when attempts = 0 then '' else 's' end || ', the most allowed; last error: ' || ${back.message}
        else ${back.message} end,
      not_before = ${back.notBefore ? back.notBefore.toISOString() : null}::timestamptz,
      priority = case when ${back.first}::boolean then 'high' else priority end,
      priority_rank = case when ${back.first}::boolean then 0 else priority_rank end,
      updated_at = now()
    where id = ${queueItemId} and status = 'processing' and batch_id is null
    returning status`);
  return rows.rows[0]?.status ?? null;
}
