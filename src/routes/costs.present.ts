import type { BudgetsOverview } from '../models/budgets/budget-admin.service.js';
import type { BudgetRow } from '../models/budgets/budgets.repository.js';
import type { BudgetChange } from '../models/budgets/allocation.repository.js';
import type { BudgetStatus, Forecast } from '../models/budgets/cost-report.service.js';
import type { CostGroup } from '../models/budgets/cost-report.repository.js';
import type { Savings, SpendFigures, SpendReport } from '../models/budgets/spend.service.js';
import { formatCount, formatUsd } from './prompts.present.js';
import type { BatchRow } from '../models/batches/batches.repository.js';
import type { OverrideRow } from '../models/batches/overrides.repository.js';
import { isHeldByFreeze, HELD_BY_FREEZE } from '../models/batches/batch-send.service.js';
import { isRunning } from '../models/batches/batch-state.js';
import { formatDateTime } from './present.js';

/** View models of the Costs page: money as text, months as names, usage as percentages and warning levels. */

export function monthLabel(month: string): string {
  return new Date(`${month}T00:00:00Z`).toLocaleString('en-GB', { month: 'long', year: 'numeric', timeZone: 'UTC' });
}

/** 'YYYY-MM-01' → 'YYYY-MM', the form and query value. */
export const monthValue = (month: string): string => month.slice(0, 7);

/** Usage of a budget: fine below its first warning threshold, a warning from there, at 100% the limit is reached. */
export type UsageLevel = 'ok' | 'warning' | 'reached';

export function usageLevel(committed: number, limit: number, warnFrom: number): UsageLevel {
  if (committed >= limit) return 'reached';
  if (committed * 100 >= limit * warnFrom) return 'warning';
  return 'ok';
}

/** A budget's month-end projection in words: the figure, what it is made of, and the early warning. */
function presentForecast(f: Forecast | null, limitMicros: number) {
  if (!f) return null;
  const ahead = f.thresholdsAhead;
  return {
    projected: formatUsd(f.projectedMicros),
    percent: limitMicros > 0 ? Math.floor((f.projectedMicros / limitMicros) * 100) : 0,
    basis: `${formatUsd(f.runRateMicrosPerDay)} a day so far${f.queuedMicros ? `, plus ${formatUsd(f.queuedMicros)} queued` : ''}`,
    ahead: ahead.length ? `At this pace ${ahead.at(-1)! >= 100 ? 'the limit is reached' : `${ahead.at(-1)}% is reached`} before the month ends.` : null,
  };
}

function presentBudget(b: BudgetRow, forecast: Forecast | null = null) {
  const warnings = b.thresholds.filter((t) => t < 100);
  const warnFrom = warnings[0] ?? 100;
  const percent = b.limitMicros > 0 ? Math.floor((b.committedMicros / b.limitMicros) * 100) : 0;
  return {
    id: b.id,
    scope: b.courseId == null ? 'Whole platform' : (b.courseTitle ?? `Course ${b.courseId}`),
    scopeValue: b.courseId == null ? 'platform' : `course-${b.courseId}`,
    month: monthLabel(b.month),
    monthValue: monthValue(b.month),
    limit: formatUsd(b.limitMicros),
    limitInput: (b.ownLimitMicros / 1_000_000).toFixed(2),
    carryOver: b.carryOver,
    carried: b.limitMicros > b.ownLimitMicros ? formatUsd(b.limitMicros - b.ownLimitMicros) : null,
    ownLimit: formatUsd(b.ownLimitMicros),
    committed: formatUsd(b.committedMicros),
    remaining: formatUsd(Math.max(0, b.limitMicros - b.committedMicros)),
    percent,
    // <meter> needs numbers in one unit: dollars, to two decimals.
    meterValue: (Math.min(b.committedMicros, b.limitMicros) / 1_000_000).toFixed(2),
    meterMax: (b.limitMicros / 1_000_000).toFixed(2),
    // From the first warning threshold the meter turns to a warning, at the limit to its worst colour (the text says the same).
    meterLow: ((b.limitMicros * warnFrom) / 100 / 1_000_000).toFixed(2),
    meterHigh: (Math.max((b.limitMicros * warnFrom) / 100, b.limitMicros - 10_000) / 1_000_000).toFixed(2),
    level: usageLevel(b.committedMicros, b.limitMicros, warnFrom),
    warnFrom,
    warnAt: warnings.map((t) => `${t}%`).join(', ') || 'none',
    warnAtInput: warnings.join(', '),
    frozen: b.frozen,
    forecast: presentForecast(forecast, b.limitMicros),
  };
}

/** The budgets panel; `forecasts` by budget id (this month's budgets have one). */
export function presentBudgets(o: BudgetsOverview, forecasts: Map<number, Forecast | null> = new Map()) {
  return {
    budgets: o.budgets.map((b) => presentBudget(b, forecasts.get(b.id) ?? null)),
    monthOptions: o.months.map((m) => ({ value: monthValue(m), label: monthLabel(m) })),
    scopeOptions: [{ value: 'platform', label: 'Whole platform' }, ...o.courses.map((c) => ({ value: `course-${c.id}`, label: c.title }))],
  };
}

function figures(f: SpendFigures) {
  return {
    committed: formatUsd(f.committedMicros),
    charged: formatUsd(f.chargedMicros),
    batch: formatUsd(f.chargedMicros - f.realtimeMicros),
    realtime: formatUsd(f.realtimeMicros),
    inFlight: formatUsd(f.inFlightMicros),
  };
}

function savings(s: Savings | null) {
  if (!s) return null;
  // Against real time without a cache: the caching part at real-time prices, the batch part the rest (issue 20, item 5).
  const below = s.uncachedMicros > 0 ? (s.uncachedMicros - s.chargedMicros) / s.uncachedMicros : null;
  return {
    saved: formatUsd(s.savedMicros),
    standard: formatUsd(s.standardMicros),
    charged: formatUsd(s.chargedMicros),
    priced: s.pricedCharges,
    unpriced: s.unpricedCharges,
    uncached: formatUsd(s.uncachedMicros),
    byCaching: formatUsd(s.uncachedMicros - s.standardMicros),
    byBatch: formatUsd(s.standardMicros - s.chargedMicros),
    belowRealtime: below === null ? null : `${(below * 100).toFixed(1)} %`,
    kpiReached: below !== null && below >= 0.6,
  };
}

/** Bars for the shared chart partial: widths relative to the largest value. */
function bars(rows: Array<{ label: string; value: number }>) {
  const max = Math.max(1, ...rows.map((r) => r.value));
  return rows.map((r) => ({ label: r.label, value: r.value, display: formatUsd(r.value), width: Math.round((Math.max(0, r.value) / max) * 1000) / 10 }));
}

export function presentSpend(r: SpendReport) {
  const newestFirst = [...r.months].reverse();
  return {
    currentMonth: monthLabel(r.currentMonth),
    selectedMonth: monthLabel(r.selectedMonth),
    selectedMonthValue: monthValue(r.selectedMonth),
    isCurrent: r.selectedMonth === r.currentMonth,
    selected: { ...figures(r.selected), savings: savings(r.selected.savings) },
    courses: r.courses.map((c) => ({ id: c.courseId, title: c.courseTitle, ...figures(c), savings: savings(c.savings) })),
    tasks: r.tasks.map((t) => ({
      title: t.taskTitle ?? 'No task recorded',
      course: t.courseTitle ?? '—',
      committed: formatUsd(t.committedMicros),
      charged: formatUsd(t.chargedMicros),
      realtime: formatUsd(t.realtimeMicros),
      results: formatCount(t.results),
      inputTokens: formatCount(t.inputTokens),
      outputTokens: formatCount(t.outputTokens),
    })),
    months: newestFirst.map((m) => ({ value: monthValue(m.month), label: monthLabel(m.month), ...figures(m), savings: savings(m.savings), selected: m.month === r.selectedMonth })),
    period: { committed: formatUsd(r.period.committedMicros), charged: formatUsd(r.period.chargedMicros), batch: formatUsd(r.period.chargedMicros - r.period.realtimeMicros), realtime: formatUsd(r.period.realtimeMicros), savings: savings(r.period.savings), from: monthLabel(r.months[0]!.month), to: monthLabel(r.currentMonth) },
    charts: {
      courses: bars(r.courses.map((c) => ({ label: c.courseTitle, value: c.committedMicros }))),
      months: r.months.some((m) => m.committedMicros !== 0) ? bars(r.months.map((m) => ({ label: monthLabel(m.month), value: m.committedMicros }))) : [],
    },
  };
}

/** Where an unfinished batch stands, as the Costs page says it (money committed, and whether it can still be stopped). */
function openBatchState(b: BatchRow): { state: string; detail: string | null } {
  if (b.cancelRequestedAt) return { state: 'Being cancelled', detail: null };
  if (isHeldByFreeze(b)) return { state: 'Held by a freeze', detail: b.error!.slice(HELD_BY_FREEZE.length) };
  if (b.status === 'created') return { state: b.submitRequestedAt ? 'Confirmed, being sent' : 'Awaiting confirmation', detail: null };
  return { state: b.status === 'submitted' ? 'At the provider: validating' : 'At the provider: running', detail: b.submittedAt ? `Sent ${formatDateTime(b.submittedAt)}` : null };
}

/** Unfinished batches for the Costs page: held ones resume when unfrozen, those at the provider can be cancelled. */
export function presentOpenBatches(rows: BatchRow[]) {
  const batches = rows.map((b) => ({
    id: b.id,
    model: b.model,
    requests: formatCount(b.requestTotal),
    estCost: formatUsd(b.estCostMicros),
    atProvider: isRunning(b.status),
    held: isHeldByFreeze(b),
    cancellable: !b.cancelRequestedAt,
    ...openBatchState(b),
  }));
  return { openBatches: batches, heldCount: batches.filter((b) => b.held).length, atProviderCount: batches.filter((b) => b.atProvider).length };
}

/** This month's emergency overrides and what is left of their cap. */
export function presentOverrides(rows: OverrideRow[], usedMicros: number, capMicros: number) {
  return {
    enabled: capMicros > 0,
    cap: formatUsd(capMicros),
    used: formatUsd(usedMicros),
    left: formatUsd(Math.max(0, capMicros - usedMicros)),
    list: rows.map((o) => ({ batchId: o.batchId, when: formatDateTime(o.createdAt), by: o.createdBy ?? '—', reason: o.reason, requests: formatCount(o.requests), estCost: formatUsd(o.estCostMicros), status: o.status })),
  };
}

const CHANGE_LABELS: Record<string, string> = {
  'budget.created': 'Set',
  'budget.limit_changed': 'Limit changed',
  'budget.frozen': 'Frozen',
  'budget.unfrozen': 'Unfrozen',
  'budget.removed': 'Removed',
  'budget.allocation_moved': 'Allocation moved',
};

/** The budgets' latest changes, in words: what, the limit before and after where it changed, by whom. */
export function presentBudgetHistory(rows: BudgetChange[]) {
  const money = (v: unknown) => (typeof v === 'number' ? formatUsd(v) : null);
  return rows.map((c) => {
    const before = money(c.details.beforeLimitMicros);
    const after = money(c.details.limitMicros);
    return {
      when: formatDateTime(c.at),
      what: CHANGE_LABELS[c.action] ?? c.action,
      budgetId: c.budgetId,
      month: typeof c.details.month === 'string' ? monthLabel(c.details.month.slice(0, 10)) : '—',
      scope: c.details.scope === 'platform' ? 'Whole platform' : c.details.scope === 'course' ? 'Course' : '—',
      limit: before && after && before !== after ? `${before} → ${after}` : (after ?? '—'),
      by: c.by ?? '—',
    };
  });
}

/**
 * The two charts of trends: each day's cost per batch result in the month shown (charged ÷ results), and each of
 * this month's budgets' month-end forecast as a share of its limit.
 */
export function presentTrends(budgets: BudgetStatus[], days: CostGroup[]) {
  const perResult = days.filter((d) => d.results > 0).map((d) => ({ label: d.label, value: Math.round(d.resultsChargedMicros / d.results) }));
  const maxPer = Math.max(1, ...perResult.map((r) => r.value));
  const forecasts = budgets
    .filter((b) => b.forecast && b.limitMicros > 0)
    .map((b) => {
      const percent = Math.round((b.forecast!.projectedMicros / b.limitMicros) * 100);
      return { label: b.courseId == null ? 'Whole platform' : (b.courseTitle ?? `Course ${b.courseId}`), percent, display: `${percent}% (${formatUsd(b.forecast!.projectedMicros)} of ${formatUsd(b.limitMicros)})` };
    });
  const maxPercent = Math.max(100, ...forecasts.map((f) => f.percent));
  return {
    costPerResult: perResult.map((r) => ({ label: r.label, value: r.value, display: formatUsd(r.value), width: Math.round((r.value / maxPer) * 1000) / 10 })),
    forecast: forecasts.map((f) => ({ label: f.label, value: f.percent, display: f.display, width: Math.round((f.percent / maxPercent) * 1000) / 10 })),
  };
}
