import type { Db } from '../../db/db.js';
import { notifyBudgetFrozen } from '../notifications/notices.service.js';
import { Invalid, NotFound } from '../../errors.js';
import { DEFAULT_WARNINGS, MONTHS_AHEAD, type BudgetInput } from './budgets.schema.js';
import { recordAudit } from '../audit/audit.repository.js';
import { raiseBudgetAlerts } from './budget-alerts.service.js';
import { currentMonth, deleteBudget, listBudgets, listCourses, lockBudgetByScope, lockMonthBudgets, resetBudgetAlerts, setBudgetFrozen, upsertBudget, type BudgetRef, type BudgetRow } from './budgets.repository.js';
import { addMonths } from './spend.service.js';

/**
 * An administrator's budget management for their own platform: monthly limits for the platform or a course,
 * freezing, removal. Enforcement is elsewhere (budgets.service.ts reserveForBatch reads these rows); every change
 * here is audited.
 */

export interface BudgetActor {
  platformId: number;
  userId: number;
}

export interface BudgetsOverview {
  currentMonth: string;
  /** The months a budget can be set for. */
  months: string[];
  courses: Array<{ id: number; title: string }>;
  budgets: BudgetRow[];
}

/** The platform's budgets of the current and later months, and what the set-a-budget form offers. */
export async function budgetsOverview(db: Db, platformId: number): Promise<BudgetsOverview> {
  const now = await currentMonth(db);
  return {
    currentMonth: now,
    months: Array.from({ length: MONTHS_AHEAD + 1 }, (_, i) => addMonths(now, i)),
    courses: await listCourses(db, platformId),
    budgets: await listBudgets(db, platformId, now),
  };
}

/**
 * Sets (creates or changes) the limit of the platform or one of its courses for a month. Throws Invalid with a
 * message per field, changing nothing, for a month in the past or too far ahead, or a course that
 * is not the administrator's platform's.
 */
export async function setBudget(db: Db, actor: BudgetActor, input: BudgetInput): Promise<{ id: number; created: boolean }> {
  const { scope: courseId, month, limit, warnAt, carryOver } = input;
  const overview = await budgetsOverview(db, actor.platformId);
  if (!overview.months.includes(month)) {
    throw Invalid({ month: month < overview.currentMonth ? 'A budget cannot be set for a month that is over.' : `Budgets can be set up to ${MONTHS_AHEAD} months ahead.` });
  }
  if (courseId != null && !overview.courses.some((c) => c.id === courseId)) throw Invalid({ scope: 'Choose the platform or one of its courses.' });

  const key = { platformId: actor.platformId, courseId, month };
  // This month's budgets first, all in id order (the alerts raised below lock them all): locking the one budget
  // first could wait in a circle with a batch reserving against a budget of a lower id.
  await lockMonthBudgets(db, actor.platformId);
  const before = await lockBudgetByScope(db, key);
  // No thresholds typed: a budget keeps its own, a new one gets the defaults.
  const thresholds = warnAt ?? before?.thresholds ?? [...DEFAULT_WARNINGS, 100];
  const id = await upsertBudget(db, key, { limitMicros: limit, thresholds, carryOver }, actor.userId);
  // A new limit (or new thresholds, or carry-over) starts the alerts afresh: thresholds the spend already reaches are announced now.
  if (before && (before.limitMicros !== limit || before.thresholds.join() !== thresholds.join() || before.carryOver !== carryOver)) await resetBudgetAlerts(db, id);
  await raiseBudgetAlerts(db, actor.platformId);
  await recordAudit(db, {
    platformId: actor.platformId,
    courseId,
    actorId: actor.userId,
    actorKind: 'user',
    action: before ? 'budget.limit_changed' : 'budget.created',
    entityType: 'budget',
    entityId: id,
    details: { scope: courseId == null ? 'platform' : 'course', month, beforeLimitMicros: before?.limitMicros ?? null, limitMicros: limit, thresholds, carryOver },
  });
  return { id, created: !before };
}

async function audited(db: Db, actor: BudgetActor, budget: BudgetRef, action: string): Promise<void> {
  await recordAudit(db, {
    platformId: actor.platformId,
    courseId: budget.courseId,
    actorId: actor.userId,
    actorKind: 'user',
    action,
    entityType: 'budget',
    entityId: budget.id,
    details: { scope: budget.courseId == null ? 'platform' : 'course', month: budget.month, limitMicros: budget.limitMicros },
  });
}

/** Freezes (nothing more is sent for its scope and month) or unfreezes a budget of the actor's platform. */
export async function freezeBudget(db: Db, actor: BudgetActor, budgetId: number, frozen: boolean): Promise<BudgetRef> {
  const budget = await setBudgetFrozen(db, actor.platformId, budgetId, frozen);
  if (!budget) throw NotFound('The budget');
  await audited(db, actor, budget, frozen ? 'budget.frozen' : 'budget.unfrozen');
  if (frozen) await notifyBudgetFrozen(db, { ...budget, platformId: actor.platformId }, actor.userId);
  return budget;
}

/** Removes a budget of the actor's platform: its scope then has no limit for that month. */
export async function removeBudget(db: Db, actor: BudgetActor, budgetId: number): Promise<BudgetRef> {
  const budget = await deleteBudget(db, actor.platformId, budgetId);
  if (!budget) throw NotFound('The budget');
  await audited(db, actor, budget, 'budget.removed');
  return budget;
}
