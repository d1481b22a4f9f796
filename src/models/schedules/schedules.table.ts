import { sql } from 'drizzle-orm';
import { boolean, check, index, integer, pgTable, text, unique } from 'drizzle-orm/pg-core';
import { courses, ltiPlatforms, users } from '../tenancy/tenancy.table.js';
import { tasks } from '../tasks/tasks.table.js';
import { at, createdAt, id, micros, ref, updatedAt } from '../columns.js';

export const TRIGGERS = ['interval', 'cron', 'threshold'] as const;
export type Trigger = (typeof TRIGGERS)[number];
export const RUN_OUTCOMES = ['created', 'sent', 'skipped', 'refused'] as const;
export type RunOutcome = (typeof RUN_OUTCOMES)[number];

/**
 * A batch schedule (issue 20, items 1 and 2): queued work of a platform (or one course or task) turned into batches
 * by the worker at set times (`interval`, `cron`) or, in automatic mode, when enough is queued or the oldest item has
 * waited long enough (`threshold`). `next_run_at` is the slot the worker runs next; each run is one row of
 * `batch_schedule_runs`, unique per slot, written in the transaction that makes the batches.
 */
export const batchSchedules = pgTable(
  'batch_schedules',
  {
    id: id(),
    platformId: ref('platform_id').notNull().references(() => ltiPlatforms.id),
    courseId: ref('course_id').references(() => courses.id),
    taskId: ref('task_id').references(() => tasks.id),
    name: text('name').notNull(),
    trigger: text('trigger').$type<Trigger>().notNull(),
    intervalMinutes: integer('interval_minutes'),
    cron: text('cron'),
    /** Automatic mode: run when at least this many items are due … */
    thresholdItems: integer('threshold_items'),
    /** … or the oldest due item has waited this long. */
    thresholdWaitMinutes: integer('threshold_wait_minutes'),
    /** A daily window (minutes after midnight, UTC) outside which nothing runs; may wrap past midnight. */
    windowStartMinute: integer('window_start_minute'),
    windowEndMinute: integer('window_end_minute'),
    /** Only items of this priority (null: any). */
    priority: text('priority'),
    minItems: integer('min_items').notNull(),
    maxItems: integer('max_items').notNull(),
    /** True: the batches wait for an administrator's confirmation; false: they are sent at once. */
    needsConfirmation: boolean('needs_confirmation').notNull().default(true),
    /** Where each item goes: 'prompt' (its prompt's provider) or 'cheapest_in_time' (the cost optimizer). */
    providerPolicy: text('provider_policy').notNull().default('prompt'),
    /** The optimizer's target from queued to graded, in hours (null: 24), unless a task is due sooner. */
    targetTurnaroundHours: integer('target_turnaround_hours'),
    pausedAt: at('paused_at'),
    nextRunAt: at('next_run_at').notNull(),
    lastRunAt: at('last_run_at'),
    createdBy: ref('created_by').notNull().references(() => users.id),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    index('batch_schedules_due_idx').on(t.nextRunAt).where(sql`paused_at is null`),
    index('batch_schedules_platform_idx').on(t.platformId),
    check('batch_schedules_trigger_check', sql`${t.trigger} in ('interval', 'cron', 'threshold')`),
    check(
      'batch_schedules_trigger_fields_check',
      sql`(${t.trigger} <> 'interval' or ${t.intervalMinutes} > 0) and (${t.trigger} <> 'cron' or ${t.cron} is not null)
          and (${t.trigger} <> 'threshold' or (${t.thresholdItems} > 0 and ${t.thresholdWaitMinutes} > 0))`,
    ),
    check('batch_schedules_items_check', sql`${t.minItems} >= 1 and ${t.maxItems} >= ${t.minItems}`),
    check('batch_schedules_provider_policy_check', sql`${t.providerPolicy} in ('prompt', 'cheapest_in_time') and (${t.targetTurnaroundHours} is null or ${t.targetTurnaroundHours} between 1 and 720)`),
  ],
);

/** One run of a schedule, for its slot: what it made (batch ids), or why it made nothing. */
export const batchScheduleRuns = pgTable(
  'batch_schedule_runs',
  {
    id: id(),
    scheduleId: ref('schedule_id')
      .notNull()
      .references(() => batchSchedules.id),
    platformId: ref('platform_id').notNull().references(() => ltiPlatforms.id),
    /** The slot this run was for: a doubled run of the same slot inserts nothing (the unique key below). */
    dueAt: at('due_at').notNull(),
    outcome: text('outcome').$type<RunOutcome>().notNull(),
    batchIds: ref('batch_ids').array().notNull().default(sql`'{}'::bigint[]`),
    items: integer('items').notNull().default(0),
    estCostMicros: micros('est_cost_micros').notNull().default(0),
    message: text('message').notNull().default(''),
    createdAt: createdAt(),
  },
  (t) => [
    unique('batch_schedule_runs_slot_key').on(t.scheduleId, t.dueAt),
    index('batch_schedule_runs_platform_idx').on(t.platformId, t.createdAt),
    check('batch_schedule_runs_outcome_check', sql`${t.outcome} in ('created', 'sent', 'skipped', 'refused')`),
  ],
);
