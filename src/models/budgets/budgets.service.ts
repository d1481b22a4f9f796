import { sql } from 'drizzle-orm';
import type { Db } from '../../db/db.js';
import { Conflict } from '../../errors.js';
import { budgetCommittedSql } from './budgets.table.js';

/**
 * Money movements of batch work, in the cost ledger (idempotency key unique, so a retried job writes each
 * movement once): a reservation of the estimate when a batch is created (the moment money is committed), the
 * actual charge when a result is ingested, settling its reservation in the same row, and a release when a
 * request fails or never runs. Committed spend of a scope and month: COMMITTED_MICROS.
 *
 * Budgets (a later issue manages them) are enforced here already: nothing is reserved, so nothing is sent, while
 * a budget of the platform or course is frozen or would be exceeded. The budget rows are locked while checking,
 * so two administrators creating batches at once cannot both squeeze under the same limit.
 */

export interface Reservation {
  customId: string;
  queueItemId: number;
  courseId: number;
  amountMicros: number;
}

/** Money for people: four decimals under $10 (a single result costs fractions of a cent), else two. */
export function dollars(micros: number): string {
  return `$${(micros / 1_000_000).toFixed(micros < 10_000_000 ? 4 : 2)}`;
}

export async function reserveForBatch(db: Db, platformId: number, batchId: number, reservations: Reservation[]): Promise<void> {
  if (!reservations.length) return;
  const byCourse = new Map<number, number>();
  for (const r of reservations) byCourse.set(r.courseId, (byCourse.get(r.courseId) ?? 0) + r.amountMicros);
  const total = [...byCourse.values()].reduce((a, b) => a + b, 0);
  const courseIds = [...byCourse.keys()];

  const budgets = await db.execute<{ id: number; course_id: number | null; limit_micros: number; frozen: boolean; course_title: string | null }>(sql`
    select b.id, b.course_id, b.limit_micros, b.frozen, c.title as course_title
    from budgets b left join courses c on c.id = b.course_id
    where b.platform_id = ${platformId} and b.month = date_trunc('month', now())::date
      and (b.course_id is null or b.course_id = any(${sql.param(courseIds)}::bigint[]))
    order by b.id
    for update of b`);
  for (const b of budgets.rows) {
    const scope = b.course_id == null ? 'the platform' : `course "${b.course_title ?? b.course_id}"`;
    if (b.frozen) throw Conflict(`The budget of ${scope} for this month is frozen: nothing can be sent until an administrator unfreezes it.`);
    // Read after the lock, in its own statement: it sees what a transaction that held the lock before committed.
    const committed = await db.execute<{ committed: number | null }>(sql`select ${budgetCommittedSql(sql`b`)} as committed from budgets b where b.id = ${b.id}`);
    const already = Number(committed.rows[0]?.committed ?? 0);
    const adding = b.course_id == null ? total : (byCourse.get(Number(b.course_id)) ?? 0);
    if (already + adding > Number(b.limit_micros)) {
      throw Conflict(
        `This batch would exceed the monthly budget of ${scope}: ${dollars(already)} already spent or committed, this batch is estimated at ${dollars(adding)}, the limit is ${dollars(Number(b.limit_micros))}. Select fewer items or raise the budget.`,
      );
    }
  }
  await db.execute(sql`
    insert into cost_ledger (platform_id, course_id, month, kind, amount_micros, queue_item_id, batch_id, idempotency_key, note)
    select ${platformId}, r.course_id, date_trunc('month', now())::date, 'reservation', r.amount, r.item, ${batchId}, 'reserve:' || r.custom_id, 'batch estimate'
    from unnest(${sql.param(reservations.map((r) => r.courseId))}::bigint[], ${sql.param(reservations.map((r) => r.amountMicros))}::bigint[],
                ${sql.param(reservations.map((r) => r.queueItemId))}::bigint[], ${sql.param(reservations.map((r) => r.customId))}::text[])
         as r(course_id, amount, item, custom_id)
    on conflict (idempotency_key) do nothing`);
}

/**
 * Releases the reservations of these requests (failed, never run, or replaced by a charge). Each release is
 * written once, and only for a reservation that exists; it keeps the reservation's month and amount.
 */
export async function releaseReservations(db: Db, customIds: string[], note: string): Promise<void> {
  if (!customIds.length) return;
  await db.execute(sql`
    insert into cost_ledger (platform_id, course_id, month, kind, amount_micros, queue_item_id, batch_id, idempotency_key, note)
    select l.platform_id, l.course_id, l.month, 'release', l.amount_micros, l.queue_item_id, l.batch_id, 'release:' || substr(l.idempotency_key, 9), ${note}
    from cost_ledger l
    where l.idempotency_key = any(${sql.param(customIds.map((c) => `reserve:${c}`))}::text[])
    on conflict (idempotency_key) do nothing`);
}

