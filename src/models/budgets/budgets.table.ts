import { sql, type SQL } from 'drizzle-orm';
import { boolean, check, date, foreignKey, index, integer, pgTable, text, unique } from 'drizzle-orm/pg-core';
import { courses, ltiPlatforms, users } from '../tenancy/tenancy.table.js';
import { createdAt, id, micros, ref, updatedAt } from '../columns.js';

/** A monthly spending limit for a platform (course null) or one course. */
export const budgets = pgTable(
  'budgets',
  {
    id: id(),
    platformId: ref('platform_id').notNull().references(() => ltiPlatforms.id),
    courseId: ref('course_id').references(() => courses.id),
    /** First day of the month the budget applies to. */
    month: date('month').notNull(),
    limitMicros: micros('limit_micros').notNull(),
    alertThresholds: integer('alert_thresholds').array().notNull().default(sql`'{75,90,95,100}'::int[]`),
    alertsSent: integer('alerts_sent').array().notNull().default(sql`'{}'::int[]`),
    frozen: boolean('frozen').notNull().default(false),
    /** The unused part of the month before (of the same scope's budget) is added to this month's limit. */
    carryOver: boolean('carry_over').notNull().default(false),
    createdBy: ref('created_by').references(() => users.id),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    unique('budgets_scope_month_key').on(t.platformId, t.courseId, t.month).nullsNotDistinct(),
    check('budgets_limit_check', sql`${t.limitMicros} >= 0`),
  ],
);

export const LEDGER_KINDS = ['reservation', 'charge', 'release'] as const;
export type LedgerKind = (typeof LEDGER_KINDS)[number];

/** How the money was spent: in a provider batch (half price), or in a real-time call (a sample test: standard price). */
export const LEDGER_MODES = ['batch', 'realtime'] as const;
export type LedgerMode = (typeof LEDGER_MODES)[number];

/**
 * Every money movement: a reservation when work is queued, the actual charge at ingestion, a release when
 * reserved work fails or is skipped. A charge settles the reservation it replaces in the same row
 * (`settled_micros`, the reserved amount it uses up), so a result writes one row, not a charge and a release.
 * The idempotency key makes a retried job write each movement once. Committed = see COMMITTED_MICROS.
 */
export const costLedger = pgTable(
  'cost_ledger',
  {
    id: id(),
    // Checked together (below): the course, and that it is this platform's.
    platformId: ref('platform_id').notNull(),
    courseId: ref('course_id').notNull(),
    month: date('month').notNull(),
    kind: text('kind').$type<LedgerKind>().notNull(),
    mode: text('mode').$type<LedgerMode>().notNull().default('batch'),
    amountMicros: micros('amount_micros').notNull(),
    /** On a charge: the reservation it settles (0 when there was none). Always 0 on other kinds. */
    settledMicros: micros('settled_micros').notNull().default(0),
    // What the movement was for, as ids and not foreign keys: the ledger is the accounting record and must outlive
    // the work it paid for (a retention purge of student data would remove queue items and assessments, never
    // money). Also three checks fewer per result at ingestion.
    queueItemId: ref('queue_item_id'),
    batchId: ref('batch_id'),
    assessmentId: ref('assessment_id'),
    /** The task a real-time call was for (batch movements reach theirs through the queue item). */
    taskId: ref('task_id'),
    /** On a real-time movement: the provider and model called, and on its charge the tokens billed (a batch's are on its batch and assessments). */
    provider: text('provider'),
    model: text('model'),
    inputTokens: integer('input_tokens'),
    cachedInputTokens: integer('cached_input_tokens'),
    outputTokens: integer('output_tokens'),
    idempotencyKey: text('idempotency_key').notNull().unique(),
    note: text('note').notNull().default(''),
    createdAt: createdAt(),
  },
  (t) => [
    foreignKey({ name: 'cost_ledger_course_fk', columns: [t.courseId, t.platformId], foreignColumns: [courses.id, courses.platformId] }),
    index('cost_ledger_scope_idx').on(t.platformId, t.month, t.courseId),
    // The sweep's look for real-time reservations a dead process left unsettled (releaseStaleRealtime).
    index('cost_ledger_realtime_reservations_idx').on(t.createdAt).where(sql`${t.mode} = 'realtime' and ${t.kind} = 'reservation'`),
    check('cost_ledger_kind_check', sql`${t.kind} in ('reservation', 'charge', 'release')`),
    check('cost_ledger_mode_check', sql`${t.mode} in ('batch', 'realtime')`),
    check('cost_ledger_settled_check', sql`${t.settledMicros} = 0 or ${t.kind} = 'charge'`),
  ],
);

/**
 * What a set of ledger rows (alias `l`) commits: reservations − releases + charges − the reservations those
 * charges settled. Every sum of committed money uses this one expression.
 */
export const COMMITTED_MICROS = sql.raw(`sum(case when l.kind = 'release' then -l.amount_micros else l.amount_micros - l.settled_micros end)::int8`);

/**
 * The limit the budget row `budget` (an alias) enforces: its own, plus, when it carries over, what the same
 * scope's budget of the month before left unused (its own limit less its committed spend; one month back, not a
 * chain). Every check and report of a limit uses this one expression.
 */
export const budgetLimitSql = (budget: SQL) => sql`
  (${budget}.limit_micros + case when ${budget}.carry_over then coalesce((
    select greatest(0, p.limit_micros - coalesce(${budgetCommittedSql(sql`p`)}, 0)) from budgets p
    where p.platform_id = ${budget}.platform_id and p.course_id is not distinct from ${budget}.course_id
      and p.month = (${budget}.month - interval '1 month')::date), 0) else 0 end)::int8`;

/** What the scope of the budget row `budget` (an alias) has committed in its month: null when nothing. */
export const budgetCommittedSql = (budget: SQL) => sql`
  (select ${COMMITTED_MICROS} from cost_ledger l
    where l.platform_id = ${budget}.platform_id and l.month = ${budget}.month and (${budget}.course_id is null or l.course_id = ${budget}.course_id))`;

/**
 * What a platform's administrators set for the cost report (issue 16, item 8): the hourly rate of instructor time
 * and how many minutes grading one submission by hand takes when a task does not say.
 */
export const costSettings = pgTable(
  'cost_settings',
  {
    platformId: ref('platform_id')
      .primaryKey()
      .references(() => ltiPlatforms.id),
    hourlyRateMicros: micros('hourly_rate_micros'),
    defaultManualMinutes: integer('default_manual_minutes'),
    updatedBy: ref('updated_by').references(() => users.id),
    updatedAt: updatedAt(),
  },
  (t) => [
    check('cost_settings_rate_check', sql`${t.hourlyRateMicros} is null or ${t.hourlyRateMicros} between 0 and 10000000000`),
    check('cost_settings_minutes_check', sql`${t.defaultManualMinutes} is null or ${t.defaultManualMinutes} between 1 and 600`),
  ],
);
