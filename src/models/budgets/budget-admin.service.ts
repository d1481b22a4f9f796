import { z } from 'zod';
import type { Db } from '../../db/db.js';
import { Invalid, NotFound } from '../../errors.js';
import { recordAudit } from '../audit/audit.repository.js';
import { raiseBudgetAlerts } from './budget-alerts.service.js';
import { currentMonth, deleteBudget, listBudgets, listCourses, lockBudgetByScope, lockMonthBudgets, resetBudgetAlerts, setBudgetFrozen, upsertBudget, type BudgetRef, type BudgetRow } from './budgets.repository.js';
import { addMonths } from './spend.service.js';
import { fieldsOf } from '../../validation.js';

/**
 * An administrator's budget management for their own platform: monthly limits for the platform or a course,
 * freezing, removal. Enforcement is elsewhere (budgets.service.ts reserveForBatch reads these rows); every change
 * here is audited.
 */

/** The largest monthly limit accepted: a typo guard, far above any plausible grading spend. */
export const MAX_LIMIT_MICROS = 1_000_000 * 1_000_000;
/** Budgets can be set for the current month and this many months after it. */
export const MONTHS_AHEAD = 2;

export interface BudgetActor {
  platformId: number;
  userId: number;
}

/** Dollars typed into a form ("250", "99.5", "$1200.00") → integer micro-dollars, without floating point. */
export const dollarsField = z
  .string({ error: 'Enter a monthly limit in dollars, like 250 or 99.50.' })
  .trim()
  .transform((v, ctx) => {
    const m = /^\$?\s*(\d{1,9})(?:\.(\d{1,2}))?$/.exec(v);
    if (!m) {
      ctx.addIssue({ code: 'custom', message: v ? 'Enter dollars with at most two decimals and no thousands separators, like 250 or 99.50.' : 'Enter a monthly limit in dollars, like 250 or 99.50.' });
      return z.NEVER;
    }
    const micros = Number(m[1]) * 1_000_000 + Number((m[2] ?? '').padEnd(2, '0')) * 10_000;
    if (micros <= 0) {
      ctx.addIssue({ code: 'custom', message: 'The limit must be more than $0. To stop all spending, freeze the budget instead.' });
      return z.NEVER;
    }
    if (micros > MAX_LIMIT_MICROS) {
      ctx.addIssue({ code: 'custom', message: 'A monthly limit is at most $1,000,000.' });
      return z.NEVER;
    }
    return micros;
  });

export const budgetForm = z.object({
  scope: z
    .string({ error: 'Choose the platform or one of its courses.' })
    .regex(/^(platform|course-\d{1,15})$/, 'Choose the platform or one of its courses.')
    .transform((v) => (v === 'platform' ? null : Number(v.slice('course-'.length)))),
  month: z.string({ error: 'Choose a month.' }).regex(/^\d{4}-(0[1-9]|1[0-2])$/, 'Choose a month.').transform((v) => `${v}-01`),
  limit: dollarsField,
});

export const freezeForm = z.object({ frozen: z.enum(['true', 'false'], { error: 'Say whether to freeze (true) or unfreeze (false) the budget.' }).transform((v) => v === 'true') });

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
 * message per field, changing nothing, for a bad amount, a month in the past or too far ahead, or a course that
 * is not the administrator's platform's.
 */
export async function setBudget(db: Db, actor: BudgetActor, raw: unknown): Promise<{ id: number; created: boolean }> {
  const parsed = budgetForm.safeParse(raw ?? {});
  if (!parsed.success) throw Invalid(fieldsOf(parsed.error, { depth: 1 }));
  const { scope: courseId, month, limit } = parsed.data;
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
  const id = await upsertBudget(db, key, limit, actor.userId);
  // A new limit starts its alerts afresh: thresholds the spend already reaches under it are announced now.
  if (before && before.limitMicros !== limit) await resetBudgetAlerts(db, id);
  await raiseBudgetAlerts(db, actor.platformId);
  await recordAudit(db, {
    platformId: actor.platformId,
    courseId,
    actorId: actor.userId,
    actorKind: 'user',
    action: before ? 'budget.limit_changed' : 'budget.created',
    entityType: 'budget',
    entityId: id,
    details: { scope: courseId == null ? 'platform' : 'course', month, beforeLimitMicros: before?.limitMicros ?? null, limitMicros: limit },
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
export async function freezeBudget(db: Db, actor: BudgetActor, budgetId: number, raw: unknown): Promise<BudgetRef> {
  const parsed = freezeForm.safeParse(raw ?? {});
  if (!parsed.success) throw Invalid(fieldsOf(parsed.error, { depth: 1 }));
  const budget = await setBudgetFrozen(db, actor.platformId, budgetId, parsed.data.frozen);
  if (!budget) throw NotFound('The budget');
  await audited(db, actor, budget, parsed.data.frozen ? 'budget.frozen' : 'budget.unfrozen');
  return budget;
}

/** Removes a budget of the actor's platform: its scope then has no limit for that month. */
export async function removeBudget(db: Db, actor: BudgetActor, budgetId: number): Promise<BudgetRef> {
  const budget = await deleteBudget(db, actor.platformId, budgetId);
  if (!budget) throw NotFound('The budget');
  await audited(db, actor, budget, 'budget.removed');
  return budget;
}
