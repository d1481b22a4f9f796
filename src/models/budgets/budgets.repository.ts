import { sql, type SQL } from 'drizzle-orm';
import type { Db } from '../../db/db.js';
import { budgetCommittedSql, budgetLimitSql, COMMITTED_MICROS } from './budgets.table.js';

/**
 * Budget rows and ledger sums, always scoped by platform (the administrator's tenant). Months travel as
 * 'YYYY-MM-01' text: the `date` type would come back as a JS Date in the server's time zone.
 */

export interface BudgetRow {
  id: number;
  courseId: number | null;
  courseTitle: string | null;
  month: string;
  /** The limit enforced: its own, plus what last month left unused when it carries over (budgetLimitSql). */
  limitMicros: number;
  /** The limit as set. */
  ownLimitMicros: number;
  carryOver: boolean;
  frozen: boolean;
  /** Percentages of the limit that alert administrators, ascending, the last one 100 (the limit). */
  thresholds: number[];
  /** Committed spend of the budget's scope and month: reservations − releases and settlements + charges (as enforcement counts it). */
  committedMicros: number;
}

/** A budget row's scope, month and limit as the repositories read them (ids and money as numbers). */
export function budgetScopeOf(r: { id: number; course_id: number | null; course_title: string | null; month: string; limit_micros: number }) {
  return { id: Number(r.id), courseId: r.course_id == null ? null : Number(r.course_id), courseTitle: r.course_title, month: r.month, limitMicros: Number(r.limit_micros) };
}

export interface LedgerSums {
  month: string;
  courseId: number;
  reservedMicros: number;
  releasedMicros: number;
  chargedMicros: number;
  /** Of the charges, those of real-time calls. */
  realtimeMicros: number;
}

/** The current month as enforcement sees it (the database's clock, not this process's). */
export async function currentMonth(db: Db): Promise<string> {
  const rows = await db.execute<{ month: string }>(sql`select date_trunc('month', now())::date::text as month`);
  return rows.rows[0]!.month;
}

export async function listCourses(db: Db, platformId: number): Promise<Array<{ id: number; title: string }>> {
  const rows = await db.execute<{ id: number; title: string }>(sql`
    select id, coalesce(nullif(title, ''), nullif(label, ''), context_id) as title from courses where platform_id = ${platformId} order by title, id`);
  return rows.rows.map((r) => ({ id: Number(r.id), title: r.title }));
}

/** Budgets of the platform from a month on, with what their scope has committed in their month. */
export async function listBudgets(db: Db, platformId: number, fromMonth: string): Promise<BudgetRow[]> {
  const rows = await db.execute<{ id: number; course_id: number | null; course_title: string | null; month: string; limit_micros: number; own_limit: number; carry_over: boolean; frozen: boolean; alert_thresholds: number[]; committed: number | null }>(sql`
    select b.id, b.course_id, coalesce(nullif(c.title, ''), c.context_id) as course_title, b.month::text as month, ${budgetLimitSql(sql`b`)} as limit_micros,
           b.limit_micros as own_limit, b.carry_over, b.frozen, b.alert_thresholds, ${budgetCommittedSql(sql`b`)} as committed
    from budgets b left join courses c on c.id = b.course_id
    where b.platform_id = ${platformId} and b.month >= ${fromMonth}::date
    order by b.month, b.course_id nulls first, course_title`);
  return rows.rows.map((r) => ({
    ...budgetScopeOf(r),
    ownLimitMicros: Number(r.own_limit),
    carryOver: r.carry_over,
    frozen: r.frozen,
    thresholds: r.alert_thresholds.map(Number),
    committedMicros: Number(r.committed ?? 0),
  }));
}

export interface BudgetKey {
  platformId: number;
  courseId: number | null;
  month: string;
}

/**
 * Locks the platform's budgets of this month, in id order: the order reserveForBatch locks them in, so two
 * transactions that each lock several never wait for each other in a circle (a deadlock PostgreSQL would end by
 * failing one of them).
 */
export async function lockMonthBudgets(db: Db, platformId: number): Promise<void> {
  await db.execute(sql`select id from budgets where platform_id = ${platformId} and month = date_trunc('month', now())::date order by id for update`);
}

/** The budget of a scope and month, locked for the rest of the transaction (null when there is none). */
export async function lockBudgetByScope(db: Db, key: BudgetKey): Promise<{ id: number; limitMicros: number; thresholds: number[]; carryOver: boolean } | null> {
  const rows = await db.execute<{ id: number; limit_micros: number; alert_thresholds: number[]; carry_over: boolean }>(sql`
    select id, limit_micros, alert_thresholds, carry_over from budgets
    where platform_id = ${key.platformId} and month = ${key.month}::date
      and ${key.courseId == null ? sql`course_id is null` : sql`course_id = ${key.courseId}`}
    for update`);
  const r = rows.rows[0];
  return r ? { id: Number(r.id), limitMicros: Number(r.limit_micros), thresholds: r.alert_thresholds.map(Number), carryOver: r.carry_over } : null;
}

/** Sets the limit, alert thresholds and carry-over of a scope and month, creating the budget when there is none. Returns its id. */
export async function upsertBudget(db: Db, key: BudgetKey, limit: { limitMicros: number; thresholds: number[]; carryOver: boolean }, userId: number): Promise<number> {
  const rows = await db.execute<{ id: number }>(sql`
    insert into budgets (platform_id, course_id, month, limit_micros, alert_thresholds, carry_over, created_by)
    values (${key.platformId}, ${key.courseId}, ${key.month}::date, ${limit.limitMicros}, ${sql.param(limit.thresholds)}::int[], ${limit.carryOver}, ${userId})
    on conflict on constraint budgets_scope_month_key do update
      set limit_micros = excluded.limit_micros, alert_thresholds = excluded.alert_thresholds, carry_over = excluded.carry_over, updated_at = now()
    returning id`);
  return Number(rows.rows[0]!.id);
}

/** Forgets which alert thresholds of a budget were announced (its limit or thresholds changed). */
export async function resetBudgetAlerts(db: Db, budgetId: number): Promise<void> {
  await db.execute(sql`update budgets set alerts_sent = '{}' where id = ${budgetId}`);
}

export interface BudgetRef {
  id: number;
  courseId: number | null;
  month: string;
  limitMicros: number;
  frozen: boolean;
}

const refColumns = sql`id, course_id, month::text as month, limit_micros, frozen`;
type RefRow = { id: number; course_id: number | null; month: string; limit_micros: number; frozen: boolean };
const toRef = (r: RefRow): BudgetRef => ({ id: Number(r.id), courseId: r.course_id == null ? null : Number(r.course_id), month: r.month, limitMicros: Number(r.limit_micros), frozen: r.frozen });

/** Freezes or unfreezes a budget of this platform; null when the platform has no such budget. */
export async function setBudgetFrozen(db: Db, platformId: number, budgetId: number, frozen: boolean): Promise<BudgetRef | null> {
  const rows = await db.execute<RefRow>(sql`
    update budgets set frozen = ${frozen}, updated_at = now() where id = ${budgetId} and platform_id = ${platformId} returning ${refColumns}`);
  return rows.rows[0] ? toRef(rows.rows[0]) : null;
}

/** Deletes a budget of this platform; null when the platform has no such budget. */
export async function deleteBudget(db: Db, platformId: number, budgetId: number): Promise<BudgetRef | null> {
  const rows = await db.execute<RefRow>(sql`delete from budgets where id = ${budgetId} and platform_id = ${platformId} returning ${refColumns}`);
  return rows.rows[0] ? toRef(rows.rows[0]) : null;
}

/** Ledger movements of the platform per month and course, from a month on (released: by a release row or settled by a charge). */
export async function ledgerSums(db: Db, platformId: number, fromMonth: string): Promise<LedgerSums[]> {
  const rows = await db.execute<{ month: string; course_id: number; reserved: number; released: number; charged: number; realtime: number }>(sql`
    select month::text as month, course_id,
           coalesce(sum(amount_micros) filter (where kind = 'reservation'), 0)::int8 as reserved,
           (coalesce(sum(amount_micros) filter (where kind = 'release'), 0) + coalesce(sum(settled_micros), 0))::int8 as released,
           coalesce(sum(amount_micros) filter (where kind = 'charge'), 0)::int8 as charged,
           coalesce(sum(amount_micros) filter (where kind = 'charge' and mode = 'realtime'), 0)::int8 as realtime
    from cost_ledger
    where platform_id = ${platformId} and month >= ${fromMonth}::date
    group by month, course_id
    order by month, course_id`);
  return rows.rows.map((r) => ({ month: r.month, courseId: Number(r.course_id), reservedMicros: Number(r.reserved), releasedMicros: Number(r.released), chargedMicros: Number(r.charged), realtimeMicros: Number(r.realtime) }));
}

/**
 * A model's standard (real-time) rates in micro-dollars per million tokens, in force on the UTC days from `since`
 * up to the day before `until` ('YYYY-MM-DD'; null: open-ended on that side).
 */
export interface StandardRate {
  model: string;
  since: string | null;
  until: string | null;
  input: number;
  cachedInput: number;
  output: number;
}

export interface RealtimeComparison {
  month: string;
  courseId: number;
  /** Charges whose result's tokens and model are known: what was charged, and the same tokens at standard rates. */
  pricedCharges: number;
  chargedMicros: number;
  standardMicros: number;
  /** The same tokens at standard rates with no prompt cache: every input token at the input price. */
  uncachedMicros: number;
  /** Charges that cannot be compared (no assessment, or a model without a standard price). */
  unpricedCharges: number;
}

/**
 * Each batch charge beside what the same result would have cost at real-time prices: the result's stored token
 * usage at the model's standard rates in force on the charge's UTC day (the rate row whose period holds it),
 * rounded per request half up exactly as src/providers/pricing.ts does, so a price change does not re-price the
 * months before it. Real-time charges are left out: they paid the standard price, nothing was saved on them.
 */
export async function realtimeComparison(db: Db, platformId: number, fromMonth: string, rates: StandardRate[]): Promise<RealtimeComparison[]> {
  const values = rates.length
    ? sql.join(rates.map((r) => sql`(${r.model}::text, ${r.since}::date, ${r.until}::date, ${r.input}::int8, ${r.cachedInput}::int8, ${r.output}::int8)`), sql`, `)
    : sql`(null::text, null::date, null::date, 0::int8, 0::int8, 0::int8)`;
  const rows = await db.execute<{ month: string; course_id: number; priced: number; charged: number; standard: number; uncached: number; unpriced: number }>(sql`
    with rates(model, since, until, input, cached, output) as (values ${values})
    select l.month::text as month, l.course_id,
           count(*) filter (where r.model is not null)::int as priced,
           coalesce(sum(l.amount_micros) filter (where r.model is not null), 0)::int8 as charged,
           coalesce(sum(div((a.input_tokens - a.cached_input_tokens)::int8 * r.input + a.cached_input_tokens::int8 * r.cached
                            + a.output_tokens::int8 * r.output + 500000, 1000000)) filter (where r.model is not null), 0)::int8 as standard,
           coalesce(sum(div(a.input_tokens::int8 * r.input + a.output_tokens::int8 * r.output + 500000, 1000000)) filter (where r.model is not null), 0)::int8 as uncached,
           count(*) filter (where r.model is null)::int as unpriced
    from cost_ledger l
    left join assessments a on a.id = l.assessment_id and a.platform_id = l.platform_id
    left join rates r on r.model = a.model
      -- The day the charge was written, as a UTC calendar day whatever the session's time zone (pricing.ts' days).
      and (r.since is null or r.since <= (l.created_at at time zone 'UTC')::date)
      and (r.until is null or (l.created_at at time zone 'UTC')::date < r.until)
    where l.platform_id = ${platformId} and l.kind = 'charge' and l.mode = 'batch' and l.month >= ${fromMonth}::date
    group by l.month, l.course_id`);
  return rows.rows.map((r) => ({
    month: r.month,
    courseId: Number(r.course_id),
    pricedCharges: Number(r.priced),
    chargedMicros: Number(r.charged),
    standardMicros: Number(r.standard),
    uncachedMicros: Number(r.uncached),
    unpricedCharges: Number(r.unpriced),
  }));
}

export interface TaskSpend {
  /** Null for movements that name no queue item (nothing the pipeline writes, but the ledger allows it). */
  taskId: number | null;
  taskTitle: string | null;
  courseTitle: string | null;
  committedMicros: number;
  chargedMicros: number;
  /** Of the charges, those of real-time calls (sample tests, real-time gradings). */
  realtimeMicros: number;
  /** Charged results and the tokens they used, from their assessments. */
  results: number;
  inputTokens: number;
  outputTokens: number;
}

/** One month's ledger of the platform by task (through each movement's queue item), most committed first. */
export async function taskSpend(db: Db, platformId: number, month: string): Promise<TaskSpend[]> {
  const rows = await db.execute<{ task_id: number | null; task_title: string | null; course_title: string | null; committed: number; charged: number; realtime: number; results: number; input_tokens: number; output_tokens: number }>(sql`
    select t.id as task_id, t.title as task_title, coalesce(nullif(c.title, ''), c.context_id) as course_title,
           ${COMMITTED_MICROS} as committed,
           coalesce(sum(l.amount_micros) filter (where l.kind = 'charge'), 0)::int8 as charged,
           coalesce(sum(l.amount_micros) filter (where l.kind = 'charge' and l.mode = 'realtime'), 0)::int8 as realtime,
           count(a.id)::int as results,
           coalesce(sum(a.input_tokens), 0)::int8 as input_tokens,
           coalesce(sum(a.output_tokens), 0)::int8 as output_tokens
    from cost_ledger l
    left join queue_items q on q.id = l.queue_item_id and q.platform_id = l.platform_id
    left join tasks t on t.id = coalesce(l.task_id, q.task_id)
    left join courses c on c.id = t.course_id
    left join assessments a on a.id = l.assessment_id and l.kind = 'charge' and a.platform_id = l.platform_id
    where l.platform_id = ${platformId} and l.month = ${month}::date
    group by t.id, t.title, c.title, c.context_id
    order by committed desc, t.title nulls last`);
  return rows.rows.map((r) => ({
    taskId: r.task_id == null ? null : Number(r.task_id),
    taskTitle: r.task_title,
    courseTitle: r.course_title,
    committedMicros: Number(r.committed),
    chargedMicros: Number(r.charged),
    realtimeMicros: Number(r.realtime),
    results: Number(r.results),
    inputTokens: Number(r.input_tokens),
    outputTokens: Number(r.output_tokens),
  }));
}

/**
 * Ingestion's movement for results, as one statement other statements can wrap: each result's actual charge, in
 * the month of its reservation, settling that reservation (written once: idempotency key). A request either
 * succeeds (this charge) or fails (a release): its status changes once, so a reservation is never settled and
 * released both. `results` names a relation with columns (custom_id, course_id, amount, item, assessment). Each
 * reservation is looked up by its key, one index probe per result (LATERAL … LIMIT 1 keeps it a probe: a plain
 * join lets the planner hash the whole ledger, every month of every course, once per chunk).
 */
export function chargeSql(platformId: number, batchId: number, results: SQL) {
  return sql`
    insert into cost_ledger (platform_id, course_id, month, kind, amount_micros, settled_micros, queue_item_id, batch_id, assessment_id, idempotency_key, note)
    select ${platformId}::bigint, r.course_id, coalesce(l.month, date_trunc('month', now())::date), 'charge', r.amount, coalesce(l.amount_micros, 0),
           r.item, ${batchId}::bigint, r.assessment, 'charge:' || r.custom_id, 'batch result'
    from ${results} r left join lateral (select month, amount_micros from cost_ledger l where l.idempotency_key = 'reserve:' || r.custom_id limit 1) l on true
    on conflict (idempotency_key) do nothing`;
}
