import { sql } from 'drizzle-orm';
import type { Db } from '../../db/db.js';
import type { RunOutcome, Trigger } from './schedules.table.js';
import type { ScheduleInput } from './schedules.schema.js';
import type { ProviderPolicy } from '../batches/optimizer.js';

export interface ScheduleRow {
  id: number;
  platformId: number;
  courseId: number | null;
  taskId: number | null;
  courseTitle: string | null;
  taskTitle: string | null;
  name: string;
  trigger: Trigger;
  intervalMinutes: number | null;
  cron: string | null;
  thresholdItems: number | null;
  thresholdWaitMinutes: number | null;
  windowStartMinute: number | null;
  windowEndMinute: number | null;
  priority: string | null;
  minItems: number;
  maxItems: number;
  needsConfirmation: boolean;
  providerPolicy: ProviderPolicy;
  targetTurnaroundHours: number | null;
  pausedAt: Date | null;
  nextRunAt: Date;
  lastRunAt: Date | null;
  createdBy: number;
  createdAt: Date;
}

const num = (v: unknown) => (v == null ? null : Number(v));
const when = (v: unknown) => (v == null ? null : new Date(v as string));

function toSchedule(r: Record<string, unknown>): ScheduleRow {
  return {
    id: Number(r.id),
    platformId: Number(r.platform_id),
    courseId: num(r.course_id),
    taskId: num(r.task_id),
    courseTitle: (r.course_title as string | null) ?? null,
    taskTitle: (r.task_title as string | null) ?? null,
    name: r.name as string,
    trigger: r.trigger as Trigger,
    intervalMinutes: num(r.interval_minutes),
    cron: (r.cron as string | null) ?? null,
    thresholdItems: num(r.threshold_items),
    thresholdWaitMinutes: num(r.threshold_wait_minutes),
    windowStartMinute: num(r.window_start_minute),
    windowEndMinute: num(r.window_end_minute),
    priority: (r.priority as string | null) ?? null,
    minItems: Number(r.min_items),
    maxItems: Number(r.max_items),
    needsConfirmation: Boolean(r.needs_confirmation),
    providerPolicy: (r.provider_policy as ProviderPolicy | undefined) ?? 'prompt',
    targetTurnaroundHours: num(r.target_turnaround_hours),
    pausedAt: when(r.paused_at),
    nextRunAt: when(r.next_run_at)!,
    lastRunAt: when(r.last_run_at),
    createdBy: Number(r.created_by),
    createdAt: when(r.created_at)!,
  };
}

const SELECT = sql`
  select s.*, c.title as course_title, t.title as task_title
  from batch_schedules s
  left join courses c on c.id = s.course_id
  left join tasks t on t.id = s.task_id`;

export async function insertSchedule(db: Db, platformId: number, userId: number, s: ScheduleInput, nextRunAt: Date): Promise<number> {
  const rows = await db.execute<{ id: number }>(sql`
    insert into batch_schedules (platform_id, course_id, task_id, name, trigger, interval_minutes, cron, threshold_items, threshold_wait_minutes,
                                 window_start_minute, window_end_minute, priority, min_items, max_items, needs_confirmation, provider_policy, target_turnaround_hours, next_run_at, created_by)
    values (${platformId}, ${s.courseId}, ${s.taskId}, ${s.name}, ${s.trigger}, ${s.intervalMinutes}, ${s.cron}, ${s.thresholdItems}, ${s.thresholdWaitMinutes},
            ${s.windowStartMinute}, ${s.windowEndMinute}, ${s.priority}, ${s.minItems}, ${s.maxItems}, ${s.needsConfirmation}, ${s.providerPolicy}, ${s.targetTurnaroundHours}, ${nextRunAt}, ${userId})
    returning id`);
  return Number(rows.rows[0]!.id);
}

/** Changes a schedule of this platform (locked by the caller's findSchedule … forUpdate); false when there is none. */
export async function updateSchedule(db: Db, platformId: number, id: number, s: ScheduleInput, nextRunAt: Date): Promise<boolean> {
  const rows = await db.execute(sql`
    update batch_schedules set course_id = ${s.courseId}, task_id = ${s.taskId}, name = ${s.name}, trigger = ${s.trigger}, interval_minutes = ${s.intervalMinutes},
      cron = ${s.cron}, threshold_items = ${s.thresholdItems}, threshold_wait_minutes = ${s.thresholdWaitMinutes}, window_start_minute = ${s.windowStartMinute},
      window_end_minute = ${s.windowEndMinute}, priority = ${s.priority}, min_items = ${s.minItems}, max_items = ${s.maxItems},
      needs_confirmation = ${s.needsConfirmation}, provider_policy = ${s.providerPolicy}, target_turnaround_hours = ${s.targetTurnaroundHours}, next_run_at = ${nextRunAt}, updated_at = now()
    where id = ${id} and platform_id = ${platformId}`);
  return (rows.rowCount ?? 0) > 0;
}

export async function findSchedule(db: Db, platformId: number, id: number, options: { forUpdate?: boolean } = {}): Promise<ScheduleRow | null> {
  const rows = await db.execute(sql`${SELECT} where s.id = ${id} and s.platform_id = ${platformId} ${options.forUpdate ? sql`for update of s` : sql``}`);
  return rows.rows[0] ? toSchedule(rows.rows[0]) : null;
}

export async function listSchedules(db: Db, platformId: number): Promise<ScheduleRow[]> {
  const rows = await db.execute(sql`${SELECT} where s.platform_id = ${platformId} order by s.paused_at nulls first, s.next_run_at, s.id`);
  return rows.rows.map(toSchedule);
}

/** Pauses (or resumes, with the next slot from now) when it is not already so; false when nothing changed. */
export async function setPaused(db: Db, platformId: number, id: number, paused: boolean, nextRunAt: Date | null): Promise<boolean> {
  const rows = await db.execute(
    paused
      ? sql`update batch_schedules set paused_at = now(), updated_at = now() where id = ${id} and platform_id = ${platformId} and paused_at is null`
      : sql`update batch_schedules set paused_at = null, next_run_at = ${nextRunAt}, updated_at = now() where id = ${id} and platform_id = ${platformId} and paused_at is not null`,
  );
  return (rows.rowCount ?? 0) > 0;
}

/**
 * One schedule whose slot has come, locked until the caller's transaction ends; one another worker holds is
 * skipped (it is being run), so two workers never run the same schedule at once.
 */
export async function claimDueSchedule(db: Db, now: Date): Promise<ScheduleRow | null> {
  const rows = await db.execute(sql`
    ${SELECT}
    where s.id = (select id from batch_schedules where paused_at is null and next_run_at <= ${now} order by next_run_at, id limit 1 for update skip locked)`);
  return rows.rows[0] ? toSchedule(rows.rows[0]) : null;
}

/** The next slot, after a run (or a look that found nothing to do). */
export async function advanceSchedule(db: Db, id: number, nextRunAt: Date, ran: boolean): Promise<void> {
  await db.execute(sql`update batch_schedules set next_run_at = ${nextRunAt} ${ran ? sql`, last_run_at = now()` : sql``} where id = ${id}`);
}

/**
 * Claims a slot: the run's row, or null when this slot already has one (a doubled or replayed run). Inserted
 * before anything is made, in the same transaction as the batches, so a crash takes the row and the batches away together.
 */
export async function insertRun(db: Db, scheduleId: number, platformId: number, dueAt: Date): Promise<number | null> {
  const rows = await db.execute<{ id: number }>(sql`
    insert into batch_schedule_runs (schedule_id, platform_id, due_at, outcome) values (${scheduleId}, ${platformId}, ${dueAt}, 'skipped')
    on conflict (schedule_id, due_at) do nothing
    returning id`);
  return rows.rows[0] ? Number(rows.rows[0].id) : null;
}

export async function finishRun(db: Db, runId: number, r: { outcome: RunOutcome; batchIds: number[]; items: number; estCostMicros: number; message: string }): Promise<void> {
  await db.execute(sql`
    update batch_schedule_runs set outcome = ${r.outcome}, batch_ids = ${sql.param(r.batchIds)}::bigint[], items = ${r.items}, est_cost_micros = ${r.estCostMicros}, message = ${r.message}
    where id = ${runId}`);
}

export interface RunRow {
  id: number;
  scheduleId: number;
  scheduleName: string;
  dueAt: Date;
  outcome: RunOutcome;
  batchIds: number[];
  items: number;
  estCostMicros: number;
  message: string;
  createdAt: Date;
}

/** A platform's runs, newest first (one schedule's, when named). */
export async function listRuns(db: Db, platformId: number, scheduleId: number | null, limit: number): Promise<RunRow[]> {
  const rows = await db.execute<Record<string, unknown>>(sql`
    select r.*, s.name as schedule_name from batch_schedule_runs r join batch_schedules s on s.id = r.schedule_id
    where r.platform_id = ${platformId} ${scheduleId == null ? sql`` : sql`and r.schedule_id = ${scheduleId}`}
    order by r.due_at desc, r.id desc limit ${limit}`);
  return rows.rows.map((r) => ({
    id: Number(r.id),
    scheduleId: Number(r.schedule_id),
    scheduleName: r.schedule_name as string,
    dueAt: new Date(r.due_at as string),
    outcome: r.outcome as RunOutcome,
    batchIds: ((r.batch_ids as Array<string | number> | null) ?? []).map(Number),
    items: Number(r.items),
    estCostMicros: Number(r.est_cost_micros),
    message: r.message as string,
    createdAt: new Date(r.created_at as string),
  }));
}

export interface ScheduleScope {
  platformId: number;
  courseId: number | null;
  taskId: number | null;
  priority: string | null;
}

const scopeCondition = (s: ScheduleScope) => sql`
  q.platform_id = ${s.platformId} and q.status = 'queued' and (q.not_before is null or q.not_before <= now())
  ${s.courseId == null ? sql`` : sql`and q.course_id = ${s.courseId}`}
  ${s.taskId == null ? sql`` : sql`and q.task_id = ${s.taskId}`}
  ${s.priority == null ? sql`` : sql`and q.priority = ${s.priority}`}`;

/** How much due work a schedule's scope holds, and since when the oldest of it waits (automatic mode's trigger). */
export async function dueWork(db: Db, scope: ScheduleScope): Promise<{ items: number; oldestAt: Date | null }> {
  const rows = await db.execute<{ n: number; oldest: string | null }>(sql`select count(*)::int as n, min(q.created_at) as oldest from queue_items q where ${scopeCondition(scope)}`);
  const r = rows.rows[0]!;
  return { items: Number(r.n), oldestAt: r.oldest ? new Date(r.oldest) : null };
}

/**
 * Up to `limit` due items of the scope in queue order (priority, then oldest), locked; items another transaction
 * holds (an administrator making a batch of them right now) are skipped rather than waited for.
 */
export async function pickDueItems(db: Db, scope: ScheduleScope, limit: number): Promise<Array<{ id: number; courseId: number; model: string }>> {
  const rows = await db.execute<{ id: number; course_id: number; model: string }>(sql`
    select q.id, q.course_id, q.model from queue_items q where ${scopeCondition(scope)}
    order by q.priority_rank, q.created_at, q.id limit ${limit}
    for update of q skip locked`);
  return rows.rows.map((r) => ({ id: Number(r.id), courseId: Number(r.course_id), model: r.model }));
}

/** Whether a course (and a task of it, when named) belongs to the platform. */
export async function scopeBelongs(db: Db, platformId: number, courseId: number | null, taskId: number | null): Promise<{ course: boolean; task: boolean }> {
  const rows = await db.execute<{ course: boolean; task: boolean }>(sql`
    select
      (${courseId}::bigint is null or exists (select 1 from courses where id = ${courseId} and platform_id = ${platformId})) as course,
      (${taskId}::bigint is null or exists (select 1 from tasks t join courses c on c.id = t.course_id
         where t.id = ${taskId} and c.platform_id = ${platformId} and (${courseId}::bigint is null or t.course_id = ${courseId}))) as task`);
  return rows.rows[0]!;
}

/** The platform's courses and tasks, for the form's choices. */
export async function scopeChoices(db: Db, platformId: number): Promise<{ courses: Array<{ id: number; title: string }>; tasks: Array<{ id: number; title: string; courseTitle: string }> }> {
  const courses = await db.execute<{ id: number; title: string }>(sql`select id, title from courses where platform_id = ${platformId} order by title, id limit 500`);
  const tasks = await db.execute<{ id: number; title: string; course_title: string }>(sql`
    select t.id, t.title, c.title as course_title from tasks t join courses c on c.id = t.course_id where c.platform_id = ${platformId} order by c.title, t.title, t.id limit 1000`);
  return { courses: courses.rows.map((c) => ({ id: Number(c.id), title: c.title })), tasks: tasks.rows.map((t) => ({ id: Number(t.id), title: t.title, courseTitle: t.course_title })) };
}
