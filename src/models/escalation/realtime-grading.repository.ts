import { sql } from 'drizzle-orm';
import type { Db } from '../../db/db.js';
import { insertAssessmentsSql, type AssessmentsDoc } from '../assessments/assessments.repository.js';
import type { SendRow } from '../batches/batch-work.repository.js';
import type { ReleasePolicy } from '../tasks/tasks.table.js';
import type { QueueStatus } from '../queue/queue.table.js';

/** What a real-time grading reads of its item: the request's makings (as a batch's send step reads them) and its rules. */
export type RealtimeItemRow = Omit<SendRow, 'request_id' | 'custom_id'> & {
  status: QueueStatus;
  batch_id: number | null;
  platform_id: number;
  course_id: number;
  provider: string;
  release_policy: ReleasePolicy;
  auto_release_min_confidence: number | null;
  realtime_only: boolean;
};

export async function realtimeItemRow(db: Db, queueItemId: number): Promise<RealtimeItemRow | undefined> {
  const rows = await db.execute<RealtimeItemRow>(sql`
    select q.id as queue_item_id, q.status, q.batch_id, q.platform_id, q.course_id, q.prompt_version_id, s.content, s.task_id, s.student_id, s.attempt, s.original_filename,
           p.anonymize, coalesce(p.realtime_only, false) as realtime_only, u.name, u.given_name, u.family_name, u.email, pv.provider, t.release_policy, t.auto_release_min_confidence
    from queue_items q
    join submissions s on s.id = q.submission_id
    join users u on u.id = s.student_id
    join prompt_versions pv on pv.id = q.prompt_version_id
    join tasks t on t.id = q.task_id
    left join course_privacy p on p.course_id = q.course_id
    where q.id = ${queueItemId}`);
  const r = rows.rows[0];
  if (!r) return undefined;
  return {
    ...r,
    queue_item_id: Number(r.queue_item_id),
    batch_id: r.batch_id == null ? null : Number(r.batch_id),
    platform_id: Number(r.platform_id),
    course_id: Number(r.course_id),
    prompt_version_id: Number(r.prompt_version_id),
    task_id: Number(r.task_id),
    student_id: Number(r.student_id),
  };
}

/**
 * The assessment of a real-time answer, written by the statement ingestion uses (insertAssessmentsSql: the copies
 * of its queue item taken from the item), only while the item is still this grading's (processing, in no batch).
 * Returns its id, or null when nothing was written.
 */
export async function insertRealtimeAssessment(db: Db, queueItemId: number, doc: AssessmentsDoc): Promise<number | null> {
  const mine = await db.execute(sql`select 1 from queue_items where id = ${queueItemId} and status = 'processing' and batch_id is null for update`);
  if (!mine.rows.length) return null;
  const rows = await db.execute<{ id: number }>(sql`with ins as (${insertAssessmentsSql(doc)}) select id from ins`);
  return rows.rows.length ? Number(rows.rows[0]!.id) : null;
}

/** Items of real-time-only courses waiting in the queue (new, or back after a failure or a refusal) that are due. */
export async function dueRealtimeOnlyItems(db: Db, limit: number): Promise<number[]> {
  const rows = await db.execute<{ id: number }>(sql`
    select q.id from queue_items q join course_privacy p on p.course_id = q.course_id
    where q.status = 'queued' and q.batch_id is null and (q.not_before is null or q.not_before <= now())
      and p.realtime_only and p.llm_allowed
    order by q.priority_rank, q.created_at, q.id limit ${limit}`);
  return rows.rows.map((r) => Number(r.id));
}

/**
 * Requests nobody is running: pending for longer than the job that should have run them takes to start (a lost
 * enqueue, a runner that was down), or running past their worker's lease (a killed worker).
 */
export async function orphanedRequests(db: Db, pendingForMs: number, limit: number): Promise<number[]> {
  const rows = await db.execute<{ id: number }>(sql`
    select id from realtime_requests
    where (status = 'pending' and created_at < now() - ${pendingForMs} * interval '1 millisecond') or (status = 'running' and lease_until < now())
    order by id limit ${limit}`);
  return rows.rows.map((r) => Number(r.id));
}
