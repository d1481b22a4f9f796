import { sql } from 'drizzle-orm';
import type { Db } from '../../db/db.js';

/** The SQL behind the administrator's monitoring page: one platform, one period [from, to). */
export interface Period {
  platformId: number;
  from: Date;
  to: Date;
}

const within = (column: string, p: Period) => sql`${sql.raw(column)} >= ${p.from.toISOString()} and ${sql.raw(column)} < ${p.to.toISOString()}`;

export interface KpiFacts {
  through_queue: number;
  through_queue_4h: number;
  batches_finished: number;
  batches_completed: number;
  decided: number;
  approved: number;
  released: number;
  released_6h: number;
  tasks_eligible: number;
  tasks_using: number;
}

export async function kpiFacts(db: Db, p: Period): Promise<KpiFacts> {
  const rows = await db.execute<KpiFacts & Record<string, unknown>>(sql`
    select
      (select count(*)::int from assessments a join queue_items q on q.id = a.queue_item_id
        where a.platform_id = ${p.platformId} and a.kind = 'llm' and ${within('a.created_at', p)}) as through_queue,
      (select count(*)::int from assessments a join queue_items q on q.id = a.queue_item_id
        where a.platform_id = ${p.platformId} and a.kind = 'llm' and ${within('a.created_at', p)} and a.created_at - q.created_at < interval '4 hours') as through_queue_4h,
      (select count(*)::int from batches b where b.platform_id = ${p.platformId} and b.status in ('completed', 'failed', 'expired') and ${within('coalesce(b.finished_at, b.updated_at)', p)}) as batches_finished,
      (select count(*)::int from batches b where b.platform_id = ${p.platformId} and b.status = 'completed' and ${within('coalesce(b.finished_at, b.updated_at)', p)}) as batches_completed,
      (select count(*)::int from assessments a where a.platform_id = ${p.platformId} and a.kind = 'llm' and a.review_status in ('approved', 'overridden', 'rejected') and ${within('a.reviewed_at', p)}) as decided,
      (select count(*)::int from assessments a where a.platform_id = ${p.platformId} and a.kind = 'llm' and a.review_status = 'approved' and ${within('a.reviewed_at', p)}) as approved,
      (select count(*)::int from assessments a join submissions s on s.id = a.submission_id
        where a.platform_id = ${p.platformId} and a.released_at is not null and ${within('a.released_at', p)}) as released,
      (select count(*)::int from assessments a join submissions s on s.id = a.submission_id
        where a.platform_id = ${p.platformId} and a.released_at is not null and ${within('a.released_at', p)} and a.released_at - s.created_at < interval '6 hours') as released_6h,
      (select count(*)::int from tasks t join courses c on c.id = t.course_id where c.platform_id = ${p.platformId} and t.status = 'active') as tasks_eligible,
      (select count(*)::int from tasks t join courses c on c.id = t.course_id
        where c.platform_id = ${p.platformId} and t.status = 'active'
          and exists (select 1 from prompts pr join prompt_versions v on v.id = pr.active_version_id where pr.task_id = t.id)
          and coalesce((select cp.llm_allowed from course_privacy cp where cp.course_id = c.id), false)) as tasks_using`);
  return rows.rows[0]!;
}

/** Work queued in the period by hour of the day and by weekday (UTC): when the queue peaks. */
export async function queueArrivals(db: Db, p: Period): Promise<{ byHour: number[]; byWeekday: number[] }> {
  const rows = await db.execute<{ hour: number; dow: number; n: number }>(sql`
    select extract(hour from q.created_at at time zone 'UTC')::int as hour, extract(isodow from q.created_at at time zone 'UTC')::int as dow, count(*)::int as n
    from queue_items q where q.platform_id = ${p.platformId} and ${within('q.created_at', p)} group by 1, 2`);
  const byHour = Array.from({ length: 24 }, () => 0);
  const byWeekday = Array.from({ length: 7 }, () => 0);
  for (const r of rows.rows) {
    byHour[r.hour]! += r.n;
    byWeekday[r.dow - 1]! += r.n;
  }
  return { byHour, byWeekday };
}

/** Hours from hand-in to feedback released, for each result released in the period. */
export async function hoursToFeedback(db: Db, p: Period): Promise<number[]> {
  const rows = await db.execute<{ h: number }>(sql`
    select extract(epoch from a.released_at - s.created_at)::float8 / 3600 as h
    from assessments a join submissions s on s.id = a.submission_id
    where a.platform_id = ${p.platformId} and a.released_at is not null and ${within('a.released_at', p)}`);
  return rows.rows.map((r) => Number(r.h));
}

/** The rolled-up days of the period, the platform's rows (daily_metrics, course null). */
export async function platformDays(db: Db, p: Period) {
  const rows = await db.execute<{ day: string; completed: number; batches_completed: number; batches_failed: number; cost_micros: number; avg_confidence: number | null; provider_counts: Record<string, number> }>(sql`
    select to_char(day, 'YYYY-MM-DD') as day, assessments_completed as completed, batches_completed, batches_failed, cost_micros, avg_confidence, provider_counts
    from daily_metrics where platform_id = ${p.platformId} and course_id is null
      and day >= (${p.from.toISOString()}::timestamptz at time zone 'UTC')::date and day < (${p.to.toISOString()}::timestamptz at time zone 'UTC')::date
    order by day`);
  return rows.rows.map((r) => ({ ...r, cost_micros: Number(r.cost_micros) }));
}

/** Overrides of LLM results decided in the period, counted by their category (null: decided before categories). */
export async function overrideCategoriesOfPeriod(db: Db, p: Period): Promise<Array<{ category: string | null; n: number }>> {
  const rows = await db.execute<{ category: string | null; n: number }>(sql`
    select a.override_category as category, count(*)::int as n from assessments a
    where a.platform_id = ${p.platformId} and a.kind = 'llm' and a.review_status = 'overridden' and ${within('a.reviewed_at', p)}
    group by a.override_category`);
  return rows.rows;
}
