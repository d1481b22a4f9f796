import type { StandIn } from '../providers/anthropic-prices.js';
import { KPI_SAVING_PERCENT, type ProviderComparison } from '../models/budgets/provider-comparison.js';
import type { CostReport, Return, TaskReturn } from '../models/budgets/roi.service.js';
import type { CostSettings } from '../models/budgets/roi.repository.js';
import { formatCount, formatUsd } from './prompts.present.js';
import { monthLabel } from './costs.present.js';

/** View models of the cost report page and its CSV: money as text, shares as percentages, the KPI in words. */

/**
 * A share in percent to one decimal, rounded down: 59.96 % shows as 59.9 %, never as a 60.0 % that the KPI
 * (compared exactly) does not count as reached.
 */
export function percentOf(part: number, whole: number): number | null {
  if (whole <= 0) return null;
  return Math.floor((part * 1000) / whole) / 10;
}

const showPercent = (p: number | null) => (p == null ? '—' : `${p.toFixed(1)} %`);

function presentComparison(c: ProviderComparison) {
  const percent = percentOf(c.savedMicros, c.openaiRealtimeMicros);
  return {
    compared: formatCount(c.comparedRequests),
    charged: formatUsd(c.chargedMicros),
    openaiBatch: formatUsd(c.openaiBatchMicros),
    openaiRealtime: formatUsd(c.openaiRealtimeMicros),
    anthropicBatch: formatUsd(c.anthropicBatchMicros),
    anthropicRealtime: formatUsd(c.anthropicRealtimeMicros),
    saved: formatUsd(c.savedMicros),
    savedPercent: showPercent(percent),
    kpi: c.kpiAchieved == null ? 'Nothing to compare' : c.kpiAchieved ? 'Achieved' : 'Not achieved',
    kpiAchieved: c.kpiAchieved,
    leftOut: c.leftOutRequests ? `${formatCount(c.leftOutRequests)} charge${c.leftOutRequests === 1 ? '' : 's'} (${formatUsd(c.leftOutMicros)})` : null,
  };
}

const showMinutes = (m: number) => `${formatCount(m)} min (${(m / 60).toLocaleString('en', { maximumFractionDigits: 1 })} h)`;

/** Dollars of value per dollar of LLM cost, or null when either is missing. */
function perDollar(valueMicros: number | null, costMicros: number): string | null {
  if (valueMicros == null || costMicros <= 0) return null;
  return `${(valueMicros / costMicros).toLocaleString('en', { maximumFractionDigits: valueMicros / costMicros >= 100 ? 0 : 1 })} ×`;
}

function presentReturn(r: Return) {
  return {
    results: formatCount(r.results),
    cost: formatUsd(r.chargedMicros),
    minutes: showMinutes(r.minutesSaved),
    withoutMinutes: r.resultsWithoutMinutes ? `${formatCount(r.resultsWithoutMinutes)} assessment${r.resultsWithoutMinutes === 1 ? '' : 's'} without minutes not counted` : null,
    value: r.valueMicros == null ? null : formatUsd(r.valueMicros),
    net: r.netMicros == null ? null : formatUsd(r.netMicros),
    perDollar: perDollar(r.valueMicros, r.chargedMicros),
  };
}

const SOURCE_LABEL = { task: 'the task', default: 'platform default' } as const;

function presentTask(t: TaskReturn) {
  return {
    taskId: t.taskId,
    title: t.title ?? 'No task recorded',
    results: formatCount(t.results),
    cost: formatUsd(t.chargedMicros),
    minutesInput: t.taskMinutes == null ? '' : String(t.taskMinutes),
    minutes: t.minutes == null ? 'Not set' : `${t.minutes} (${SOURCE_LABEL[t.minutesSource!]})`,
    minutesSaved: t.minutesSaved == null ? '—' : showMinutes(t.minutesSaved),
    value: t.valueMicros == null ? '—' : formatUsd(t.valueMicros),
  };
}

/** Bars for the shared chart partial (views/partials/_bar-chart.ejs): widths relative to the largest value. */
function bars(rows: Array<{ label: string; value: number; display: string }>) {
  const max = Math.max(1, ...rows.map((r) => r.value));
  return rows.map((r) => ({ ...r, width: Math.round((Math.max(0, r.value) / max) * 1000) / 10 }));
}

function presentSettings(s: CostSettings) {
  return {
    hourlyRate: s.hourlyRateMicros == null ? '' : (s.hourlyRateMicros / 1_000_000).toFixed(2),
    defaultMinutes: s.defaultManualMinutes == null ? '' : String(s.defaultManualMinutes),
    rate: s.hourlyRateMicros == null ? null : `${formatUsd(s.hourlyRateMicros)} an hour`,
    minutes: s.defaultManualMinutes == null ? null : `${s.defaultManualMinutes} minutes`,
  };
}

export function presentReport(r: CostReport, standIns: readonly StandIn[]) {
  const p = r.platform.comparison;
  return {
    month: { value: r.month.slice(0, 7), label: monthLabel(r.month), isCurrent: r.month === r.currentMonth },
    kpiTarget: KPI_SAVING_PERCENT,
    settings: presentSettings(r.settings),
    platform: { comparison: presentComparison(p), roi: presentReturn(r.platform.roi) },
    courses: r.courses.map((c) => ({ id: c.courseId, title: c.title, comparison: presentComparison(c.comparison), roi: presentReturn(c.roi), tasks: c.tasks.map(presentTask) })),
    standIns: standIns.map((s) => ({ tier: s.tier, anthropic: s.anthropicModel, openai: s.openaiModels.join(', ') })),
    charts: {
      providers: p.comparedRequests
        ? bars([
            { label: 'Charged (actual)', value: p.chargedMicros, display: formatUsd(p.chargedMicros) },
            { label: 'OpenAI batch', value: p.openaiBatchMicros, display: formatUsd(p.openaiBatchMicros) },
            { label: 'OpenAI real-time', value: p.openaiRealtimeMicros, display: formatUsd(p.openaiRealtimeMicros) },
            { label: 'Anthropic batch', value: p.anthropicBatchMicros, display: formatUsd(p.anthropicBatchMicros) },
            { label: 'Anthropic real-time', value: p.anthropicRealtimeMicros, display: formatUsd(p.anthropicRealtimeMicros) },
          ])
        : [],
      saved: bars(
        r.courses
          .filter((c) => c.comparison.openaiRealtimeMicros > 0)
          .map((c) => {
            const percent = percentOf(c.comparison.savedMicros, c.comparison.openaiRealtimeMicros)!;
            return { label: c.title, value: percent, display: `${showPercent(percent)} (${c.comparison.kpiAchieved ? 'KPI achieved' : 'KPI not achieved'})` };
          }),
      ),
      value: r.settings.hourlyRateMicros == null ? [] : bars(r.courses.map((c) => ({ label: c.title, value: c.roi.valueMicros ?? 0, display: `${formatUsd(c.roi.valueMicros ?? 0)} saved, ${formatUsd(c.roi.chargedMicros)} LLM cost` }))),
    },
  };
}

/** Micro-dollars as plain dollars with all six decimals (exact, and a number to a spreadsheet). */
export function csvDollars(micros: number | null): string {
  if (micros == null) return '';
  const abs = Math.abs(micros);
  return `${micros < 0 ? '-' : ''}${Math.floor(abs / 1_000_000)}.${String(abs % 1_000_000).padStart(6, '0')}`;
}

const PLAIN_NUMBER = /^-?\d+(\.\d+)?$/;

/**
 * One CSV cell. Text that a spreadsheet would read as a formula (starting with = + - @, or a tab or carriage
 * return that some strip before looking) gets a leading apostrophe (OWASP's CSV injection advice); a number this
 * file writes itself (a negative saving) stays a number. Cells with commas, quotes or line breaks are quoted.
 */
export function csvCell(value: string | number | null): string {
  let s = value == null ? '' : String(value);
  if (/^[=+\-@\t\r]/.test(s) && !PLAIN_NUMBER.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

const CSV_HEADER = [
  'month', 'course_id', 'course', 'batch_results', 'llm_cost_usd',
  'compared_requests', 'compared_charged_usd', 'openai_batch_usd', 'openai_realtime_usd', 'anthropic_batch_usd', 'anthropic_realtime_usd',
  'saved_vs_openai_realtime_usd', 'saved_percent', `kpi_${KPI_SAVING_PERCENT}_percent_saving`, 'left_out_charges', 'left_out_usd',
  'minutes_saved', 'assessments_without_minutes', 'hourly_rate_usd', 'value_of_time_saved_usd', 'net_usd',
];

/** The report as CSV: a row per course, then the platform's total; CRLF line ends (RFC 4180). */
export function reportCsv(r: CostReport): string {
  const row = (courseId: number | null, title: string, c: ProviderComparison, roi: Return) => [
    r.month.slice(0, 7), courseId, title, roi.results, csvDollars(roi.chargedMicros),
    c.comparedRequests, csvDollars(c.chargedMicros), csvDollars(c.openaiBatchMicros), csvDollars(c.openaiRealtimeMicros), csvDollars(c.anthropicBatchMicros), csvDollars(c.anthropicRealtimeMicros),
    csvDollars(c.savedMicros), percentOf(c.savedMicros, c.openaiRealtimeMicros)?.toFixed(1) ?? '', c.kpiAchieved == null ? '' : c.kpiAchieved ? 'yes' : 'no', c.leftOutRequests, csvDollars(c.leftOutMicros),
    roi.minutesSaved, roi.resultsWithoutMinutes, csvDollars(r.settings.hourlyRateMicros), csvDollars(roi.valueMicros), csvDollars(roi.netMicros),
  ];
  const rows = [CSV_HEADER, ...r.courses.map((c) => row(c.courseId, c.title, c.comparison, c.roi)), row(null, 'Platform total', r.platform.comparison, r.platform.roi)];
  return rows.map((cells) => cells.map(csvCell).join(',')).join('\r\n') + '\r\n';
}
