import { sql, type SQL } from 'drizzle-orm';
import type { Db } from '../../db/db.js';
import { COMMITTED_MICROS } from './budgets.table.js';

/**
 * The SQL of the cost API: the ledger summed over a period and grouped one way, and each budget's figures with
 * what its month-end forecast needs. Scoped by platform; months travel as 'YYYY-MM-01' text.
 */

export const GROUPINGS = ['day', 'week', 'month', 'course', 'task', 'model', 'provider'] as const;
export type Grouping = (typeof GROUPINGS)[number];

export interface CostGroup {
  key: string;
  label: string;
  committedMicros: number;
  chargedMicros: number;
  /** Of the charges, real-time calls' (standard prices). */
  realtimeMicros: number;
  /** Reserved and neither charged nor released yet. */
  inFlightMicros: number;
  /** Batch results charged, and what those charges came to (cost per result = resultsChargedMicros ÷ results). */
  results: number;
  resultsChargedMicros: number;
  inputTokens: number;
  outputTokens: number;
}

// Days and weeks are those of the movement (UTC); the period filter is the accounting month a movement counts in.
const GROUP_SQL: Record<Grouping, { key: SQL; label: SQL }> = {
  day: { key: sql`to_char(l.created_at at time zone 'UTC', 'YYYY-MM-DD')`, label: sql`to_char(l.created_at at time zone 'UTC', 'YYYY-MM-DD')` },
  week: { key: sql`to_char(date_trunc('week', l.created_at at time zone 'UTC'), 'IYYY-"W"IW')`, label: sql`'Week of ' || to_char(date_trunc('week', l.created_at at time zone 'UTC'), 'YYYY-MM-DD')` },
  month: { key: sql`to_char(l.month, 'YYYY-MM')`, label: sql`to_char(l.month, 'FMMonth YYYY')` },
  course: { key: sql`l.course_id::text`, label: sql`coalesce(nullif(c.title, ''), c.context_id)` },
  task: { key: sql`coalesce(coalesce(l.task_id, q.task_id)::text, 'none')`, label: sql`coalesce(t.title, 'No task recorded')` },
  model: { key: sql`coalesce(l.model, b.model, 'unknown')`, label: sql`coalesce(l.model, b.model, 'unknown')` },
  provider: { key: sql`coalesce(l.provider, b.provider, 'unknown')`, label: sql`coalesce(l.provider, b.provider, 'unknown')` },
};

/** The platform's ledger from `fromMonth` to `toMonth` (first days, inclusive), of one course or all, grouped. */
export async function costGroups(db: Db, platformId: number, period: { fromMonth: string; toMonth: string; courseId: number | null }, groupBy: Grouping): Promise<CostGroup[]> {
  const g = GROUP_SQL[groupBy];
  const rows = await db.execute<{ key: string; label: string; committed: number; charged: number; realtime: number; in_flight: number; results: number; results_charged: number; input_tokens: number; output_tokens: number }>(sql`
    select ${g.key} as key, ${g.label} as label,
           ${COMMITTED_MICROS} as committed,
           coalesce(sum(l.amount_micros) filter (where l.kind = 'charge'), 0)::int8 as charged,
           coalesce(sum(l.amount_micros) filter (where l.kind = 'charge' and l.mode = 'realtime'), 0)::int8 as realtime,
           (coalesce(sum(l.amount_micros) filter (where l.kind = 'reservation'), 0) - coalesce(sum(l.amount_micros) filter (where l.kind = 'release'), 0)
             - coalesce(sum(l.settled_micros), 0))::int8 as in_flight,
           count(a.id)::int as results,
           coalesce(sum(l.amount_micros) filter (where a.id is not null), 0)::int8 as results_charged,
           coalesce(sum(coalesce(a.input_tokens, l.input_tokens)) filter (where l.kind = 'charge'), 0)::int8 as input_tokens,
           coalesce(sum(coalesce(a.output_tokens, l.output_tokens)) filter (where l.kind = 'charge'), 0)::int8 as output_tokens
    from cost_ledger l
    left join queue_items q on q.id = l.queue_item_id and q.platform_id = l.platform_id
    left join tasks t on t.id = coalesce(l.task_id, q.task_id)
    left join courses c on c.id = l.course_id
    left join batches b on b.id = l.batch_id and b.platform_id = l.platform_id
    left join assessments a on a.id = l.assessment_id and l.kind = 'charge' and a.platform_id = l.platform_id
    where l.platform_id = ${platformId} and l.month between ${period.fromMonth}::date and ${period.toMonth}::date
      ${period.courseId == null ? sql`` : sql`and l.course_id = ${period.courseId}`}
    group by 1, 2
    order by 1`);
  return rows.rows.map((r) => ({
    key: r.key,
    label: r.label,
    committedMicros: Number(r.committed),
    chargedMicros: Number(r.charged),
    realtimeMicros: Number(r.realtime),
    inFlightMicros: Number(r.in_flight),
    results: Number(r.results),
    resultsChargedMicros: Number(r.results_charged),
    inputTokens: Number(r.input_tokens),
    outputTokens: Number(r.output_tokens),
  }));
}

export interface BudgetFigures {
  id: number;
  chargedMicros: number;
  inFlightMicros: number;
  alertsSent: number[];
  /** Estimated cost of the items queued in the budget's scope now (what the month may still send). */
  queuedMicros: number;
  /** Days of the month gone (fractional, by the database's clock) and days in it: the forecast's run rate. */
  elapsedDays: number;
  monthDays: number;
}

/** Each budget of the platform from `fromMonth` on, with its month's charges, what is in flight and what is queued. */
export async function budgetFigures(db: Db, platformId: number, fromMonth: string): Promise<BudgetFigures[]> {
  const rows = await db.execute<{ id: number; charged: number; in_flight: number; alerts_sent: number[]; queued: number; elapsed_days: number; month_days: number }>(sql`
    select b.id, b.alerts_sent, s.charged, s.in_flight,
           (select coalesce(sum(q.est_cost_micros), 0)::int8 from queue_items q
             where q.platform_id = b.platform_id and q.status = 'queued' and (b.course_id is null or q.course_id = b.course_id)) as queued,
           greatest(0, least(extract(epoch from now() - b.month::timestamp at time zone 'UTC') / 86400.0,
                             extract(day from b.month + interval '1 month' - interval '1 day')))::float8 as elapsed_days,
           extract(day from b.month + interval '1 month' - interval '1 day')::int as month_days
    from budgets b
    cross join lateral (
      select coalesce(sum(l.amount_micros) filter (where l.kind = 'charge'), 0)::int8 as charged,
             (coalesce(sum(l.amount_micros) filter (where l.kind = 'reservation'), 0) - coalesce(sum(l.amount_micros) filter (where l.kind = 'release'), 0)
               - coalesce(sum(l.settled_micros), 0))::int8 as in_flight
      from cost_ledger l
      where l.platform_id = b.platform_id and l.month = b.month and (b.course_id is null or l.course_id = b.course_id)) s
    where b.platform_id = ${platformId} and b.month >= ${fromMonth}::date`);
  return rows.rows.map((r) => ({
    id: Number(r.id),
    chargedMicros: Number(r.charged),
    inFlightMicros: Number(r.in_flight),
    alertsSent: r.alerts_sent.map(Number),
    queuedMicros: Number(r.queued),
    elapsedDays: Number(r.elapsed_days),
    monthDays: Number(r.month_days),
  }));
}
