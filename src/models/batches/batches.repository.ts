import { and, desc, eq, sql, type SQL } from 'drizzle-orm';
import type { Db } from '../../db/db.js';
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
