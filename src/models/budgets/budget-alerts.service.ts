import type { Db } from '../../db/db.js';
import { lockMonthBudgets } from './budgets.repository.js';
import { dollars } from './budgets.service.js';
import { recordReachedThresholds } from './ledger.repository.js';
import { notifyAdministrators } from '../notifications/notices.service.js';

/**
 * Budget alerts. When the committed spend of a budget's month reaches one of its thresholds (75, 90, 95 and 100 %
 * by default, set per budget) for the first time, the administrators of its platform get one notification, naming the highest
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
  const alerts: BudgetAlert[] = [];
  for (const r of await recordReachedThresholds(db, platformId)) {
    const { courseTitle, month, ...alert } = r;
    alerts.push(alert);
    const scope = alert.courseId == null ? 'the platform' : `course "${courseTitle ?? alert.courseId}"`;
    const reachedLimit = alert.threshold >= 100;
    await notifyAdministrators(db, {
      kind: 'budget_alert',
      platformId,
      courseId: alert.courseId,
      severity: reachedLimit ? 'error' : 'warning',
      link: '/admin/costs',
      dedupeKey: `budget_alert:${alert.budgetId}:${month}:${alert.threshold}:${alert.limitMicros}`,
      vars: {
        scope,
        threshold: String(alert.threshold),
        month,
        spent: dollars(alert.committedMicros),
        limit: dollars(alert.limitMicros),
        consequence: reachedLimit ? 'New batches for this scope are refused until the limit is raised.' : '',
      },
    });
  }
  return alerts;
}
