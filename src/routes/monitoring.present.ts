import type { Kpi, Monitoring } from '../models/metrics/monitoring.service.js';
import { csvCell } from './cost-report.present.js';
import { formatUsd } from './prompts.present.js';

/** View models of the monitoring page: tiles worded, every series as bar-chart rows (with its table). */

const pct = (v: number) => `${(v * 100).toFixed(1)}%`;

function presentKpi(k: Kpi) {
  const value = k.value == null ? '—' : k.kind === 'share' ? pct(k.value) : `${k.value.toFixed(2)} / 5`;
  const target = k.kind === 'share' ? `target ≥ ${pct(k.target).replace('.0%', '%')}` : `target > ${k.target.toFixed(1)}`;
  return { ...k, display: value, targetLabel: target, state: k.met == null ? 'no data' : k.met ? 'on target' : 'below target' };
}

interface BarRow {
  label: string;
  display: string;
  width: number;
}

function bars<T>(items: T[], label: (t: T) => string, value: (t: T) => number, display: (t: T) => string = (t) => String(value(t))): BarRow[] {
  const max = Math.max(0, ...items.map(value));
  return items.map((t) => ({ label: label(t), display: display(t), width: max > 0 ? (value(t) / max) * 100 : 0 }));
}

const WEEKDAYS = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'];

/** The charts of the page, in order: id, caption, the two column headings, rows. */
export function chartsOf(m: Monitoring) {
  const hours = m.arrivals.byHour.map((n, h) => ({ h, n }));
  const batchDays = m.days.filter((d) => d.batches_completed + d.batches_failed > 0);
  const costDays = m.days.filter((d) => d.completed > 0);
  const confDays = m.days.filter((d) => d.avg_confidence != null);
  return [
    { id: 'mon-hours', caption: 'Work queued by hour of day (UTC)', label: 'Hour', value: 'Items', rows: bars(hours, (x) => `${String(x.h).padStart(2, '0')}:00`, (x) => x.n) },
    { id: 'mon-weekdays', caption: 'Work queued by weekday', label: 'Weekday', value: 'Items', rows: bars(m.arrivals.byWeekday.map((n, i) => ({ d: WEEKDAYS[i]!, n })), (x) => x.d, (x) => x.n) },
    { id: 'mon-feedback', caption: 'Time from hand-in to feedback', label: 'Time', value: 'Results', rows: bars(m.feedback, (x) => x.label, (x) => x.n) },
    { id: 'mon-batch-success', caption: 'Batch success rate per day', label: 'Day', value: 'Succeeded', rows: bars(batchDays, (d) => d.day, (d) => d.batches_completed / (d.batches_completed + d.batches_failed), (d) => `${pct(d.batches_completed / (d.batches_completed + d.batches_failed))} of ${d.batches_completed + d.batches_failed}`) },
    { id: 'mon-cost', caption: 'Cost per assessment per day', label: 'Day', value: 'Cost per result', rows: bars(costDays, (d) => d.day, (d) => d.cost_micros / d.completed, (d) => formatUsd(Math.round(d.cost_micros / d.completed))) },
    { id: 'mon-confidence', caption: 'Mean confidence per day', label: 'Day', value: 'Confidence', rows: bars(confDays, (d) => d.day, (d) => d.avg_confidence!, (d) => pct(d.avg_confidence!)) },
    { id: 'mon-providers', caption: 'Results by provider', label: 'Provider', value: 'Results', rows: bars(m.providers, (x) => x.provider, (x) => x.n) },
    { id: 'mon-reasons', caption: `Override reasons (${m.overrides.count} overrides)`, label: 'Reason', value: 'Overrides', rows: bars(m.overrides.reasons, (x) => x.reason, (x) => x.n) },
  ];
}

export function presentMonitoring(m: Monitoring) {
  return { kpis: m.kpis.map(presentKpi), charts: chartsOf(m), rolledUpDays: m.days.length };
}

/** Every tile and chart as CSV rows: section, label, value. */
export function monitoringCsv(m: Monitoring): string {
  const lines = ['section,label,value'];
  for (const k of m.kpis) lines.push(['kpi', k.label, k.value == null ? '' : k.kind === 'share' ? k.value.toFixed(4) : k.value.toFixed(2)].map((v) => csvCell(v)).join(','));
  for (const c of chartsOf(m)) for (const r of c.rows) lines.push([c.caption, r.label, r.display].map((v) => csvCell(v)).join(','));
  return lines.join('\r\n') + '\r\n';
}
