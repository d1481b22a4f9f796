import { sql } from 'drizzle-orm';
import type { Db } from '../db/db.js';

/** Rows per status (statuses without rows are absent). */
export async function queueItemsByStatus(db: Db): Promise<Map<string, number>> {
  const r = await db.execute<{ status: string; n: number }>(sql`select status, count(*)::int as n from queue_items group by status`);
  return new Map(r.rows.map((row) => [row.status, Number(row.n)]));
}

export async function batchesByStatus(db: Db): Promise<Map<string, number>> {
  const r = await db.execute<{ status: string; n: number }>(sql`select status, count(*)::int as n from batches group by status`);
  return new Map(r.rows.map((row) => [row.status, Number(row.n)]));
}

/** Decisions waiting to reach the LMS gradebook (retries included). */
export async function gradeSyncBacklog(db: Db): Promise<number> {
  const r = await db.execute<{ n: number }>(sql`select count(*)::int as n from assessments where grade_sync_status = 'pending'`);
  return Number(r.rows[0]?.n ?? 0);
}
