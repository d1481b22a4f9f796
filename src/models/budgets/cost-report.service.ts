import type { Db } from '../../db/db.js';
import { currentMonth, listBudgets, type BudgetRow } from './budgets.repository.js';
import { budgetFigures, costGroups, type BudgetFigures, type CostGroup, type Grouping } from './cost-report.repository.js';

/**
 * What the cost API answers (issue 16, item 10) and the Costs page's forecasts: the ledger summed for a period and
 * scope, grouped by day, week, month, course, task, model or provider, and each budget's status with a month-end
 * projection. Every figure is a sum of ledger rows: the same as the Costs page shows for the same filter.
 */

export interface SummaryQuery {
  fromMonth: string;
  toMonth: string;
  courseId: number | null;
  groupBy: Grouping;
}

export type CostTotals = Omit<CostGroup, 'key' | 'label'>;

export interface CostSummary {
  groups: CostGroup[];
  totals: CostTotals;
}

export async function costSummary(db: Db, platformId: number, query: SummaryQuery): Promise<CostSummary> {
  const groups = await costGroups(db, platformId, query, query.groupBy);
  const totals: CostTotals = { committedMicros: 0, chargedMicros: 0, realtimeMicros: 0, inFlightMicros: 0, results: 0, resultsChargedMicros: 0, inputTokens: 0, outputTokens: 0 };
  for (const g of groups) for (const k of Object.keys(totals) as Array<keyof CostTotals>) totals[k] += g[k];
  return { groups, totals };
}

export interface Forecast {
  /** Committed now, plus the month's charge rate over the days left, plus what is queued (estimated). */
  projectedMicros: number;
  runRateMicrosPerDay: number;
  queuedMicros: number;
  /** Thresholds the projection reaches that committed spend has not reached yet: the early warning. */
  thresholdsAhead: number[];
}

/**
 * A month-end projection from known figures. The run rate is the month's charges per day gone, counting at least
 * one day (on the 1st, a few cents would otherwise extrapolate to thousands).
 */
export function projectMonthEnd(
  f: { committedMicros: number; chargedMicros: number; queuedMicros: number; elapsedDays: number; monthDays: number },
  budget: { limitMicros: number; thresholds: number[] },
): Forecast {
  const runRate = f.chargedMicros / Math.max(1, f.elapsedDays);
  const daysLeft = Math.max(0, f.monthDays - f.elapsedDays);
  const projectedMicros = f.committedMicros + Math.round(runRate * daysLeft) + f.queuedMicros;
  const reaches = (micros: number, t: number) => budget.limitMicros > 0 && micros * 100 >= t * budget.limitMicros;
  return {
    projectedMicros,
    runRateMicrosPerDay: Math.round(runRate),
    queuedMicros: f.queuedMicros,
    thresholdsAhead: budget.thresholds.filter((t) => reaches(projectedMicros, t) && !reaches(f.committedMicros, t)),
  };
}

export interface BudgetStatus extends BudgetRow {
  chargedMicros: number;
  inFlightMicros: number;
  /** Thresholds committed spend has reached, and those alerted (once each per month). */
  thresholdsReached: number[];
  alertsSent: number[];
  /** For the current month's budgets; null for a later month. */
  forecast: Forecast | null;
}

/** Each budget of this month and later with its figures, and a forecast for this month's. */
export async function budgetStatus(db: Db, platformId: number): Promise<{ currentMonth: string; budgets: BudgetStatus[] }> {
  const now = await currentMonth(db);
  return { currentMonth: now, budgets: await withFigures(db, platformId, now, await listBudgets(db, platformId, now)) };
}

/** Budgets already read (this month's and later) with their figures and forecasts (the Costs page has the rows). */
export async function withFigures(db: Db, platformId: number, now: string, rows: BudgetRow[]): Promise<BudgetStatus[]> {
  const byId = new Map((await budgetFigures(db, platformId, now)).map((f) => [f.id, f]));
  return rows.map((b) => statusOf(b, byId.get(b.id)!, b.month === now));
}

function statusOf(b: BudgetRow, f: BudgetFigures, current: boolean): BudgetStatus {
  return {
    ...b,
    chargedMicros: f.chargedMicros,
    inFlightMicros: f.inFlightMicros,
    thresholdsReached: b.thresholds.filter((t) => b.limitMicros > 0 && b.committedMicros * 100 >= t * b.limitMicros),
    alertsSent: f.alertsSent,
    forecast: current ? projectMonthEnd({ ...f, committedMicros: b.committedMicros }, b) : null,
  };
}
