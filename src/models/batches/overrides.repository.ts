import { sql } from 'drizzle-orm';
import type { Db } from '../../db/db.js';

/** The SQL of emergency overrides: their monthly cap, taken one at a time per platform, and their list. */

/** Serialises the platform's overrides until the transaction ends (two at once cannot both fit under the cap). */
export async function lockOverrides(db: Db, platformId: number): Promise<void> {
  await db.execute(sql`select pg_advisory_xact_lock(hashtextextended('budget-override:' || ${platformId}::text, 0))`);
}

/** What this month's overrides of the platform have committed by estimate (batches cancelled before sending free theirs). */
export async function overrideSpendThisMonth(db: Db, platformId: number): Promise<number> {
  const rows = await db.execute<{ total: number }>(sql`
    select coalesce(sum(est_cost_micros), 0)::int8 as total from batches
    where platform_id = ${platformId} and override_reason is not null and created_at >= date_trunc('month', now())
      and not (status in ('cancelled', 'failed') and provider_batch_id is null)`);
  return Number(rows.rows[0]!.total);
}

export interface OverrideRow {
  batchId: number;
  createdAt: Date;
  createdBy: string | null;
  reason: string;
  requests: number;
  estCostMicros: number;
  status: string;
}

/** This month's overrides of the platform, newest first. */
export async function listOverrides(db: Db, platformId: number): Promise<OverrideRow[]> {
  const rows = await db.execute<{ id: number; created_at: Date; name: string | null; override_reason: string; request_total: number; est_cost_micros: number; status: string }>(sql`
    select b.id, b.created_at, u.name, b.override_reason, b.request_total, b.est_cost_micros, b.status
    from batches b left join users u on u.id = b.created_by
    where b.platform_id = ${platformId} and b.override_reason is not null and b.created_at >= date_trunc('month', now())
    order by b.id desc`);
  return rows.rows.map((r) => ({
    batchId: Number(r.id),
    createdAt: new Date(r.created_at),
    createdBy: r.name,
    reason: r.override_reason,
    requests: Number(r.request_total),
    estCostMicros: Number(r.est_cost_micros),
    status: r.status,
  }));
}
