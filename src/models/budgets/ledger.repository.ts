import { sql } from 'drizzle-orm';
import type { Db } from '../../db/db.js';
import { budgetCommittedSql, budgetLimitSql } from './budgets.table.js';

/**
 * The SQL of money committed to batch work and real-time calls: budget rows locked while a reservation is checked, the reservations
 * and releases written to the cost ledger (idempotency key unique: a retried job writes each movement once), and
 * the budget alerts a month's spend has reached.
 */

export type ReservableBudget = { id: number; courseId: number | null; courseTitle: string | null; limitMicros: number; frozen: boolean };

/**
 * This month's budgets of the platform and of these courses, locked (`for update`) until the transaction ends; with
 * `lock: false` only read (a check that reserves nothing).
 */
export async function lockBudgetsFor(db: Db, platformId: number, courseIds: number[], options: { lock: boolean } = { lock: true }): Promise<ReservableBudget[]> {
  const rows = await db.execute<{ id: number; course_id: number | null; limit_micros: number; frozen: boolean; course_title: string | null }>(sql`
    select b.id, b.course_id, ${budgetLimitSql(sql`b`)} as limit_micros, b.frozen, c.title as course_title
    from budgets b left join courses c on c.id = b.course_id
    where b.platform_id = ${platformId} and b.month = date_trunc('month', now())::date
      and (b.course_id is null or b.course_id = any(${sql.param(courseIds)}::bigint[]))
    order by b.id
    ${options.lock ? sql`for update of b` : sql``}`);
  return rows.rows.map((b) => ({ id: Number(b.id), courseId: b.course_id == null ? null : Number(b.course_id), courseTitle: b.course_title, limitMicros: Number(b.limit_micros), frozen: b.frozen }));
}

/**
 * What a budget's scope and month has spent or committed. Read after the lock, in its own statement, so it sees
 * what a transaction that held the lock before committed.
 */
export async function committedMicros(db: Db, budgetId: number): Promise<number> {
  const rows = await db.execute<{ committed: number | null }>(sql`select ${budgetCommittedSql(sql`b`)} as committed from budgets b where b.id = ${budgetId}`);
  return Number(rows.rows[0]?.committed ?? 0);
}

export type LedgerReservation = { customId: string; queueItemId: number; courseId: number; amountMicros: number };

/** One reservation per request of a batch, in this month. */
export async function insertReservations(db: Db, platformId: number, batchId: number, reservations: LedgerReservation[]): Promise<void> {
  await db.execute(sql`
    insert into cost_ledger (platform_id, course_id, month, kind, amount_micros, queue_item_id, batch_id, idempotency_key, note)
    select ${platformId}, r.course_id, date_trunc('month', now())::date, 'reservation', r.amount, r.item, ${batchId}, 'reserve:' || r.custom_id, 'batch estimate'
    from unnest(${sql.param(reservations.map((r) => r.courseId))}::bigint[], ${sql.param(reservations.map((r) => r.amountMicros))}::bigint[],
                ${sql.param(reservations.map((r) => r.queueItemId))}::bigint[], ${sql.param(reservations.map((r) => r.customId))}::text[])
         as r(course_id, amount, item, custom_id)
    on conflict (idempotency_key) do nothing`);
}

/** A release for each existing reservation of these requests, with the reservation's month and amount. */
export async function insertReleases(db: Db, customIds: string[], note: string): Promise<void> {
  await db.execute(sql`
    insert into cost_ledger (platform_id, course_id, month, kind, mode, amount_micros, queue_item_id, batch_id, task_id, provider, model, idempotency_key, note)
    select l.platform_id, l.course_id, l.month, 'release', l.mode, l.amount_micros, l.queue_item_id, l.batch_id, l.task_id, l.provider, l.model, 'release:' || substr(l.idempotency_key, 9), ${note}
    from cost_ledger l
    where l.idempotency_key = any(${sql.param(customIds.map((c) => `reserve:${c}`))}::text[])
    on conflict (idempotency_key) do nothing`);
}

/**
 * What a real-time call is for: a course's task (and the queue item it grades, for a real-time grading), and the
 * key (a request id of our own) its movements share.
 */
export type RealtimeCall = { platformId: number; courseId: number; taskId: number; provider: string; model: string; customId: string; queueItemId?: number | null };

/** The worst case of a real-time call, reserved in this month before it is made. */
export async function insertRealtimeReservation(db: Db, call: RealtimeCall, amountMicros: number, note: string): Promise<void> {
  await db.execute(sql`
    insert into cost_ledger (platform_id, course_id, month, kind, mode, amount_micros, task_id, queue_item_id, provider, model, idempotency_key, note)
    values (${call.platformId}, ${call.courseId}, date_trunc('month', now())::date, 'reservation', 'realtime', ${amountMicros}, ${call.taskId}, ${call.queueItemId ?? null}, ${call.provider}, ${call.model},
            ${`reserve:${call.customId}`}, ${note})
    on conflict (idempotency_key) do nothing`);
}

export type RealtimeCharge = { amountMicros: number; inputTokens: number; cachedInputTokens: number; outputTokens: number };

/** What the call cost, in its reservation's month, settling that reservation (written once); with the assessment it wrote, if any. */
export async function insertRealtimeCharge(db: Db, customId: string, charge: RealtimeCharge, note: string, assessmentId: number | null = null): Promise<void> {
  await db.execute(sql`
    insert into cost_ledger (platform_id, course_id, month, kind, mode, amount_micros, settled_micros, task_id, queue_item_id, assessment_id, provider, model, input_tokens, cached_input_tokens, output_tokens, idempotency_key, note)
    select l.platform_id, l.course_id, l.month, 'charge', 'realtime', ${charge.amountMicros},
           -- A reservation the sweep already released (releaseStaleRealtime) is not settled a second time.
           case when exists (select 1 from cost_ledger r where r.idempotency_key = ${`release:${customId}`}) then 0 else l.amount_micros end,
           l.task_id, l.queue_item_id, ${assessmentId}::bigint, l.provider, l.model,
           ${charge.inputTokens}, ${charge.cachedInputTokens}, ${charge.outputTokens}, ${`charge:${customId}`}, ${note}
    from cost_ledger l where l.idempotency_key = ${`reserve:${customId}`}
    on conflict (idempotency_key) do nothing`);
}

/**
 * Releases the real-time reservations that were never settled because the process making the call stopped (a
 * crash or a restart between reserving and charging): written more than `olderThanMinutes` ago, within the last
 * two days (how far the sweep looks back), with neither a charge nor a release. Returns how many it released.
 */
export async function releaseStaleRealtime(db: Db, olderThanMinutes: number): Promise<number> {
  const rows = await db.execute(sql`
    insert into cost_ledger (platform_id, course_id, month, kind, mode, amount_micros, task_id, provider, model, idempotency_key, note)
    select l.platform_id, l.course_id, l.month, 'release', 'realtime', l.amount_micros, l.task_id, l.provider, l.model, 'release:' || substr(l.idempotency_key, 9),
           'real-time call never settled (its process stopped)'
    from cost_ledger l
    where l.mode = 'realtime' and l.kind = 'reservation'
      and l.created_at < now() - make_interval(mins => ${olderThanMinutes}) and l.created_at > now() - interval '2 days'
      and not exists (select 1 from cost_ledger c
                      where c.idempotency_key in ('charge:' || substr(l.idempotency_key, 9), 'release:' || substr(l.idempotency_key, 9)))
    on conflict (idempotency_key) do nothing
    returning id`);
  return rows.rows.length;
}

export type ReachedAlert = { budgetId: number; courseId: number | null; courseTitle: string | null; month: string; threshold: number; committedMicros: number; limitMicros: number };

/**
 * Records, for each budget of this month, the alert thresholds its committed spend has reached for the first
 * time, and returns each such budget with the highest of them. The caller has locked the budget rows.
 */
export async function recordReachedThresholds(db: Db, platformId: number): Promise<ReachedAlert[]> {
  const rows = await db.execute<{ id: number; course_id: number | null; course_title: string | null; month: string; threshold: number; committed: number; limit_micros: number }>(sql`
    with spend as (
      select b.id, ${budgetLimitSql(sql`b`)} as limit_micros, b.alert_thresholds, b.alerts_sent, coalesce(${budgetCommittedSql(sql`b`)}, 0) as committed
      from budgets b
      where b.platform_id = ${platformId} and b.month = date_trunc('month', now())::date and b.limit_micros > 0),
    due as (
      select s.id, s.committed, s.limit_micros,
             array(select t from unnest(s.alert_thresholds) t
                   where t > 0 and s.committed * 100 >= t::int8 * s.limit_micros and not (t = any(s.alerts_sent)) order by t) as reached
      from spend s)
    update budgets b set alerts_sent = b.alerts_sent || d.reached, updated_at = now()
    from due d
    where b.id = d.id and cardinality(d.reached) > 0
    returning b.id, b.course_id,
              (select coalesce(nullif(x.title, ''), x.context_id) from courses x where x.id = b.course_id) as course_title,
              to_char(b.month, 'FMMonth YYYY') as month, d.reached[cardinality(d.reached)] as threshold, d.committed, d.limit_micros`);
  return rows.rows.map((r) => ({
    budgetId: Number(r.id),
    courseId: r.course_id == null ? null : Number(r.course_id),
    courseTitle: r.course_title,
    month: r.month,
    threshold: Number(r.threshold),
    committedMicros: Number(r.committed),
    limitMicros: Number(r.limit_micros),
  }));
}
