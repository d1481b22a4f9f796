import { sql } from 'drizzle-orm';
import type { Db } from '../../db/db.js';
import { lockMonthBudgets } from './budgets.repository.js';
import { dollars } from './budgets.service.js';
import { budgetCommittedSql } from './budgets.table.js';

/**
 * Budget alerts. When the committed spend of a budget's month reaches one of its thresholds (50, 80 and 100 % by
 * default) for the first time, the administrators of its platform get one notification, naming the highest
 * threshold reached, and the thresholds reached are recorded as sent. Called in the transaction that commits
 * spend (a batch's reservations, a batch's charges) or changes a limit; the budget rows are locked before
 * checking, so two workers, or a batch created while another is ingested, never raise the same alert twice.
 */

export interface BudgetAlert {
  budgetId: number;
  courseId: number | null;
  threshold: number;
  committedMicros: number;
  limitMicros: number;
}

export async function raiseBudgetAlerts(db: Db, platformId: number): Promise<BudgetAlert[]> {
  // Locked first, then read in a statement of its own, which sees the spend of a transaction that held them before.
  await lockMonthBudgets(db, platformId);
  const rows = await db.execute<{ id: number; course_id: number | null; course_title: string | null; month: string; threshold: number; committed: number; limit_micros: number }>(sql`
    with spend as (
      select b.id, b.limit_micros, b.alert_thresholds, b.alerts_sent, coalesce(${budgetCommittedSql(sql`b`)}, 0) as committed
      from budgets b
      where b.platform_id = ${platformId} and b.month = date_trunc('month', now())::date and b.limit_micros > 0),
    due as (
      select s.id, s.committed,
             array(select t from unnest(s.alert_thresholds) t
                   where t > 0 and s.committed * 100 >= t::int8 * s.limit_micros and not (t = any(s.alerts_sent)) order by t) as reached
      from spend s)
    update budgets b set alerts_sent = b.alerts_sent || d.reached, updated_at = now()
    from due d
    where b.id = d.id and cardinality(d.reached) > 0
    returning b.id, b.course_id,
              (select coalesce(nullif(x.title, ''), x.context_id) from courses x where x.id = b.course_id) as course_title,
              to_char(b.month, 'FMMonth YYYY') as month, d.reached[cardinality(d.reached)] as threshold, d.committed, b.limit_micros`);

  const alerts: BudgetAlert[] = [];
  for (const r of rows.rows) {
    const alert = { budgetId: Number(r.id), courseId: r.course_id == null ? null : Number(r.course_id), threshold: Number(r.threshold), committedMicros: Number(r.committed), limitMicros: Number(r.limit_micros) };
    alerts.push(alert);
    const scope = alert.courseId == null ? 'the platform' : `course "${r.course_title ?? alert.courseId}"`;
    const reachedLimit = alert.threshold >= 100;
    await db.execute(sql`
      insert into notifications (platform_id, course_id, user_id, kind, severity, title, body, link)
      values (${platformId}, ${alert.courseId}, null, 'budget_alert', ${reachedLimit ? 'error' : 'warning'},
              ${`Budget of ${scope}: ${alert.threshold}% of ${r.month} used`},
              ${`${dollars(alert.committedMicros)} of ${dollars(alert.limitMicros)} is spent or committed to batches in flight.${reachedLimit ? ' New batches for this scope are refused until the limit is raised.' : ''}`},
              '/admin/costs')`);
  }
  return alerts;
}
