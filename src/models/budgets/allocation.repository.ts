import { sql } from 'drizzle-orm';
import type { Db } from '../../db/db.js';
import { budgetCommittedSql } from './budgets.table.js';
import { budgetScopeOf } from './budgets.repository.js';

/** The SQL of moving allocation between course budgets, and of the budgets' history (from the audit log). */

export interface LockedBudget {
  id: number;
  courseId: number | null;
  courseTitle: string | null;
  month: string;
  limitMicros: number;
  committedMicros: number;
}

/** These budgets of the platform, locked in id order (a fixed order: two moves at once never wait in a circle). */
export async function lockBudgetsById(db: Db, platformId: number, ids: number[]): Promise<LockedBudget[]> {
  await db.execute(sql`select id from budgets where platform_id = ${platformId} and id = any(${sql.param(ids)}::bigint[]) order by id for update`);
  // Read after the lock, in a statement of its own: it sees what a transaction that held the lock before committed.
  const rows = await db.execute<{ id: number; course_id: number | null; course_title: string | null; month: string; limit_micros: number; committed: number | null }>(sql`
    select b.id, b.course_id, coalesce(nullif(c.title, ''), c.context_id) as course_title, b.month::text as month, b.limit_micros, ${budgetCommittedSql(sql`b`)} as committed
    from budgets b left join courses c on c.id = b.course_id
    where b.platform_id = ${platformId} and b.id = any(${sql.param(ids)}::bigint[])`);
  return rows.rows.map((r) => ({ ...budgetScopeOf(r), committedMicros: Number(r.committed ?? 0) }));
}

export async function setBudgetLimit(db: Db, budgetId: number, limitMicros: number): Promise<void> {
  await db.execute(sql`update budgets set limit_micros = ${limitMicros}, updated_at = now() where id = ${budgetId}`);
}

export interface BudgetChange {
  at: Date;
  action: string;
  by: string | null;
  budgetId: number;
  details: Record<string, unknown>;
}

/** The platform's latest budget changes (set, changed, frozen, unfrozen, removed, allocation moved), newest first. */
export async function listBudgetHistory(db: Db, platformId: number, limit = 30): Promise<BudgetChange[]> {
  const rows = await db.execute<{ created_at: Date; action: string; name: string | null; entity_id: string; details: Record<string, unknown> }>(sql`
    select a.created_at, a.action, u.name, a.entity_id, a.details
    from audit_log a left join users u on u.id = a.actor_id
    where a.platform_id = ${platformId} and a.entity_type = 'budget'
    order by a.created_at desc, a.id desc limit ${limit}`);
  return rows.rows.map((r) => ({ at: new Date(r.created_at), action: r.action, by: r.name, budgetId: Number(r.entity_id), details: r.details ?? {} }));
}
