import { sql } from 'drizzle-orm';
import type { Db } from '../../db/db.js';
import type { ChargeVolume } from './provider-comparison.js';

/**
 * The SQL of the cost report (issue 16, item 8): a month's charges with their tokens, model, day, course and task;
 * the platform's cost settings; and the per-task minutes. Scoped by platform; months travel as 'YYYY-MM-01' text.
 */

/** Charges of one course and task alike: same kind of charge, model, UTC day and token counts. */
export interface MonthCharge extends ChargeVolume {
  courseId: number;
  courseTitle: string;
  /** Null when the charge names no task (nothing the pipeline writes, but the ledger allows it). */
  taskId: number | null;
  taskTitle: string | null;
  /** The task's own minutes per hand-graded submission (null: the platform's default applies). */
  taskMinutes: number | null;
  mode: 'batch' | 'realtime';
  /** A batch result (a batch charge with its assessment): what the report counts as an assessment. */
  result: boolean;
}

/**
 * The platform's charges of a month (its accounting month, as budgets count it), grouped where everything the
 * report prices is equal. A batch charge's model and tokens are its assessment's; a real-time charge carries
 * them on its ledger row. Reservations and releases are not spend and are left out.
 */
export async function monthCharges(db: Db, platformId: number, month: string): Promise<MonthCharge[]> {
  const rows = await db.execute<{
    course_id: number;
    course_title: string;
    task_id: number | null;
    task_title: string | null;
    task_minutes: number | null;
    mode: 'batch' | 'realtime';
    result: boolean;
    model: string | null;
    day: string;
    input_tokens: number | null;
    cached_input_tokens: number | null;
    output_tokens: number | null;
    requests: number;
    charged: number;
  }>(sql`
    select l.course_id, coalesce(nullif(c.title, ''), c.context_id) as course_title,
           t.id as task_id, t.title as task_title, t.manual_minutes_per_assessment as task_minutes,
           -- A result: a charge that wrote an assessment (a batch's, or a real-time grading's; a sample test writes none).
           l.mode, (a.id is not null) as result,
           case when l.mode = 'batch' then a.model else l.model end as model,
           -- The day the charge was written, as a UTC calendar day whatever the session's time zone (pricing.ts' days).
           to_char(l.created_at at time zone 'UTC', 'YYYY-MM-DD') as day,
           case when l.mode = 'batch' then a.input_tokens else l.input_tokens end as input_tokens,
           case when l.mode = 'batch' then a.cached_input_tokens else coalesce(l.cached_input_tokens, 0) end as cached_input_tokens,
           case when l.mode = 'batch' then a.output_tokens else l.output_tokens end as output_tokens,
           count(*)::int as requests,
           sum(l.amount_micros)::int8 as charged
    from cost_ledger l
    join courses c on c.id = l.course_id and c.platform_id = l.platform_id
    left join assessments a on a.id = l.assessment_id and a.platform_id = l.platform_id
    left join queue_items q on q.id = l.queue_item_id and q.platform_id = l.platform_id
    left join tasks t on t.id = coalesce(a.task_id, l.task_id, q.task_id) and t.course_id = l.course_id
    where l.platform_id = ${platformId} and l.month = ${month}::date and l.kind = 'charge'
    group by l.course_id, c.title, c.context_id, t.id, t.title, t.manual_minutes_per_assessment, l.mode, 7, 8, 9, 10, 11, 12
    order by course_title, l.course_id, t.title nulls last, t.id`);
  const n = (v: number | null) => (v == null ? null : Number(v));
  return rows.rows.map((r) => ({
    courseId: Number(r.course_id),
    courseTitle: r.course_title,
    taskId: n(r.task_id),
    taskTitle: r.task_title,
    taskMinutes: n(r.task_minutes),
    mode: r.mode,
    result: r.result,
    model: r.model,
    day: r.day,
    inputTokens: n(r.input_tokens),
    cachedInputTokens: n(r.cached_input_tokens),
    outputTokens: n(r.output_tokens),
    requests: Number(r.requests),
    chargedMicros: Number(r.charged),
  }));
}

export interface CostSettings {
  /** What an hour of an instructor's time costs, in micro-dollars; null until an administrator sets it. */
  hourlyRateMicros: number | null;
  /** Minutes grading one submission by hand takes when a task does not say; null until set. */
  defaultManualMinutes: number | null;
}

export async function getCostSettings(db: Db, platformId: number): Promise<CostSettings> {
  const rows = await db.execute<{ hourly_rate_micros: number | null; default_manual_minutes: number | null }>(sql`
    select hourly_rate_micros, default_manual_minutes from cost_settings where platform_id = ${platformId}`);
  const r = rows.rows[0];
  return {
    hourlyRateMicros: r?.hourly_rate_micros == null ? null : Number(r.hourly_rate_micros),
    defaultManualMinutes: r?.default_manual_minutes == null ? null : Number(r.default_manual_minutes),
  };
}

/** Sets the platform's cost settings (both values; null clears one), locking the row: returns those before. */
export async function saveCostSettings(db: Db, platformId: number, userId: number, s: CostSettings): Promise<CostSettings> {
  const before = await db.execute<{ hourly_rate_micros: number | null; default_manual_minutes: number | null }>(sql`
    select hourly_rate_micros, default_manual_minutes from cost_settings where platform_id = ${platformId} for update`);
  await db.execute(sql`
    insert into cost_settings (platform_id, hourly_rate_micros, default_manual_minutes, updated_by, updated_at)
    values (${platformId}, ${s.hourlyRateMicros}, ${s.defaultManualMinutes}, ${userId}, now())
    on conflict (platform_id) do update
      set hourly_rate_micros = excluded.hourly_rate_micros, default_manual_minutes = excluded.default_manual_minutes,
          updated_by = excluded.updated_by, updated_at = excluded.updated_at`);
  const r = before.rows[0];
  return {
    hourlyRateMicros: r?.hourly_rate_micros == null ? null : Number(r.hourly_rate_micros),
    defaultManualMinutes: r?.default_manual_minutes == null ? null : Number(r.default_manual_minutes),
  };
}

export interface PlatformTask {
  id: number;
  courseId: number;
  title: string;
  manualMinutes: number | null;
}

/** A task of the platform (locked for a change with `lock`); null when there is none, or it is another platform's. */
export async function findPlatformTask(db: Db, platformId: number, taskId: number, options: { lock?: boolean } = {}): Promise<PlatformTask | null> {
  const rows = await db.execute<{ id: number; course_id: number; title: string; manual_minutes_per_assessment: number | null }>(sql`
    select t.id, t.course_id, t.title, t.manual_minutes_per_assessment from tasks t join courses c on c.id = t.course_id
    where t.id = ${taskId} and c.platform_id = ${platformId}
    ${options.lock ? sql`for update of t` : sql``}`);
  const r = rows.rows[0];
  return r ? { id: Number(r.id), courseId: Number(r.course_id), title: r.title, manualMinutes: r.manual_minutes_per_assessment == null ? null : Number(r.manual_minutes_per_assessment) } : null;
}

export async function setTaskManualMinutes(db: Db, taskId: number, minutes: number | null): Promise<void> {
  await db.execute(sql`update tasks set manual_minutes_per_assessment = ${minutes}, updated_at = now() where id = ${taskId}`);
}
