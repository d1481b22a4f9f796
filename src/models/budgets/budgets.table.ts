import { sql } from 'drizzle-orm';
import { boolean, check, date, index, integer, pgTable, text, unique } from 'drizzle-orm/pg-core';
import { courses, ltiPlatforms, users } from '../tenancy/tenancy.table.js';
import { queueItems } from '../queue/queue.table.js';
import { batches } from '../batches/batches.table.js';
import { assessments } from '../assessments/assessments.table.js';
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
    alertThresholds: integer('alert_thresholds').array().notNull().default(sql`'{50,80,100}'::int[]`),
    alertsSent: integer('alerts_sent').array().notNull().default(sql`'{}'::int[]`),
    frozen: boolean('frozen').notNull().default(false),
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

/**
 * Every money movement: a reservation when work is queued, the actual charge at ingestion, a release when
 * reserved work fails or is skipped. The idempotency key makes a retried job write each movement once.
 */
export const costLedger = pgTable(
  'cost_ledger',
  {
    id: id(),
    platformId: ref('platform_id').notNull().references(() => ltiPlatforms.id),
    courseId: ref('course_id').notNull().references(() => courses.id),
    month: date('month').notNull(),
    kind: text('kind').$type<LedgerKind>().notNull(),
    amountMicros: micros('amount_micros').notNull(),
    queueItemId: ref('queue_item_id').references(() => queueItems.id),
    batchId: ref('batch_id').references(() => batches.id),
    assessmentId: ref('assessment_id').references(() => assessments.id),
    idempotencyKey: text('idempotency_key').notNull().unique(),
    note: text('note').notNull().default(''),
    createdAt: createdAt(),
  },
  (t) => [
    index('cost_ledger_scope_idx').on(t.platformId, t.month, t.courseId),
    check('cost_ledger_kind_check', sql`${t.kind} in ('reservation', 'charge', 'release')`),
  ],
);
