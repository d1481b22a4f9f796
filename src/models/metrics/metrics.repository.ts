import { sql } from 'drizzle-orm';
import type { Db } from '../../db/db.js';
import { dailyMetrics } from './metrics.table.js';

export type DailyMetricsRow = typeof dailyMetrics.$inferSelect;
export type NewDailyMetrics = typeof dailyMetrics.$inferInsert;

/** One UTC day as a half-open range, for every query of the rollup (whatever the session's time zone). */
function dayRange(column: string, day: string) {
  const c = sql.raw(column);
  return sql`${c} >= (${day}::date::timestamp at time zone 'UTC') and ${c} < ((${day}::date + 1)::timestamp at time zone 'UTC')`;
}

export type ActivityAggregate = {
  platform_id: number;
  /** Null with `platform_level`: the platform's totals. */
  course_id: number | null;
  platform_level: boolean;
  queued: number;
  completed: number;
  failed: number;
  cost_micros: number;
  avg_queue_seconds: number | null;
  avg_processing_seconds: number | null;
  avg_confidence: number | null;
};

/**
 * The day's activity per course and per platform (grouping sets: a platform's averages are over all its rows):
 * queue items created; LLM results recorded (their queue and processing times and confidence); queue items that
 * failed for good (last changed that day); charges in the ledger.
 */
export async function activityOfDay(db: Db, day: string): Promise<ActivityAggregate[]> {
  const rows = await db.execute<ActivityAggregate>(sql`
    with facts as (
      select q.platform_id, q.course_id, 1 as queued, 0 as completed, 0 as failed, 0::int8 as cost,
             null::float8 as queue_s, null::float8 as proc_s, null::float8 as conf
      from queue_items q where ${dayRange('q.created_at', day)}
      union all
      select a.platform_id, a.course_id, 0, 1, 0, 0,
             extract(epoch from b.submitted_at - q.created_at), extract(epoch from a.created_at - b.submitted_at), a.computed_confidence
      from assessments a join queue_items q on q.id = a.queue_item_id left join batches b on b.id = a.batch_id
      where a.kind = 'llm' and ${dayRange('a.created_at', day)}
      union all
      select q.platform_id, q.course_id, 0, 0, 1, 0, null, null, null
      from queue_items q where q.status = 'failed' and ${dayRange('q.updated_at', day)}
      union all
      select l.platform_id, l.course_id, 0, 0, 0, l.amount_micros, null, null, null
      from cost_ledger l where l.kind = 'charge' and ${dayRange('l.created_at', day)}
    )
    select platform_id, case when grouping(course_id) = 1 then null else course_id end as course_id, grouping(course_id) = 1 as platform_level,
           sum(queued)::int as queued, sum(completed)::int as completed, sum(failed)::int as failed, sum(cost)::int8 as cost_micros,
           avg(queue_s)::float8 as avg_queue_seconds, avg(proc_s)::float8 as avg_processing_seconds, avg(conf)::float8 as avg_confidence
    from facts
    group by grouping sets ((platform_id, course_id), (platform_id))`);
  return rows.rows.map((r) => ({ ...r, platform_id: Number(r.platform_id), course_id: r.course_id == null ? null : Number(r.course_id), cost_micros: Number(r.cost_micros) }));
}

/** The day's LLM results by provider, per course and per platform. */
export async function providerCountsOfDay(db: Db, day: string): Promise<Array<{ platform_id: number; course_id: number | null; platform_level: boolean; provider: string; n: number }>> {
  const rows = await db.execute<{ platform_id: number; course_id: number | null; platform_level: boolean; provider: string; n: number }>(sql`
    select a.platform_id, case when grouping(a.course_id) = 1 then null else a.course_id end as course_id, grouping(a.course_id) = 1 as platform_level,
           coalesce(b.provider, 'openai') as provider, count(*)::int as n
    from assessments a left join batches b on b.id = a.batch_id
    where a.kind = 'llm' and ${dayRange('a.created_at', day)}
    group by grouping sets ((a.platform_id, a.course_id, coalesce(b.provider, 'openai')), (a.platform_id, coalesce(b.provider, 'openai')))`);
  return rows.rows.map((r) => ({ ...r, platform_id: Number(r.platform_id), course_id: r.course_id == null ? null : Number(r.course_id) }));
}

/** The day's batches per platform: created, completed, and ended failed or expired (finished that day). */
export async function batchesOfDay(db: Db, day: string): Promise<Array<{ platform_id: number; created: number; completed: number; failed: number }>> {
  const rows = await db.execute<{ platform_id: number; created: number; completed: number; failed: number }>(sql`
    select platform_id,
           count(*) filter (where ${dayRange('created_at', day)})::int as created,
           count(*) filter (where status = 'completed' and ${dayRange('finished_at', day)})::int as completed,
           count(*) filter (where status in ('failed', 'expired') and ${dayRange('coalesce(finished_at, updated_at)', day)})::int as failed
    from batches
    where ${dayRange('created_at', day)} or ${dayRange('coalesce(finished_at, updated_at)', day)}
    group by platform_id`);
  return rows.rows.map((r) => ({ ...r, platform_id: Number(r.platform_id) }));
}

/** Replaces the day's rows (the caller's transaction makes it all or nothing). */
export async function replaceDay(db: Db, day: string, rows: NewDailyMetrics[]): Promise<void> {
  await db.execute(sql`delete from daily_metrics where day = ${day}::date`);
  if (rows.length) await db.insert(dailyMetrics).values(rows);
}

export async function metricsOfDay(db: Db, day: string): Promise<DailyMetricsRow[]> {
  return db.select().from(dailyMetrics).where(sql`${dailyMetrics.day} = ${day}::date`);
}
