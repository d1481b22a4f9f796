import type { Db } from '../../db/db.js';
import { summarizeAgreement, type AgreementSummary, type ReviewOutcome } from '../../analytics/agreement.js';
import { listDecided, type DecidedRow } from './review.repository.js';

export interface AgreementGroup {
  key: string;
  label: string;
  summary: AgreementSummary;
}

export interface AgreementReport {
  overall: AgreementSummary;
  byTask: AgreementGroup[];
  byPromptVersion: AgreementGroup[];
  /** Per rubric criterion (of the filtered task or version): criterion points of the model vs. the final ones. */
  byCriterion: AgreementGroup[];
  /** Per UTC day of the decision, oldest first. */
  timeline: AgreementGroup[];
}

function outcome(r: DecidedRow): ReviewOutcome {
  return { llm: r.score, final: r.reviewStatus === 'overridden' ? (r.overrideScore ?? r.score) : r.score, decision: r.reviewStatus, maxScore: r.maxScore };
}

function grouped(rows: DecidedRow[], keyOf: (r: DecidedRow) => string, labelOf: (r: DecidedRow) => string): AgreementGroup[] {
  const groups = new Map<string, { label: string; outcomes: ReviewOutcome[] }>();
  for (const r of rows) {
    const key = keyOf(r);
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { label: labelOf(r), outcomes: [] }));
    g.outcomes.push(outcome(r));
  }
  return [...groups.entries()].map(([key, g]) => ({ key, label: g.label, summary: summarizeAgreement(g.outcomes) }));
}

/**
 * Criterion agreement. An approval agrees on every criterion; an override counts for a criterion only where the
 * instructor gave that criterion's points (an override of the total alone says nothing about one criterion).
 */
function criterionGroups(rows: DecidedRow[]): AgreementGroup[] {
  const groups = new Map<string, { label: string; outcomes: ReviewOutcome[] }>();
  for (const r of rows) {
    const criteria = (r.result?.criteria ?? {}) as Record<string, { score?: number }>;
    for (const c of r.rubric) {
      const llm = criteria[c.id]?.score;
      if (typeof llm !== 'number') continue;
      const given = r.overrideCriteria?.[c.id];
      if (r.reviewStatus === 'overridden' && given === undefined) continue;
      const key = `${r.taskId}:${c.id}`;
      let g = groups.get(key);
      if (!g) groups.set(key, (g = { label: `${r.taskTitle} — ${c.name}`, outcomes: [] }));
      const final = r.reviewStatus === 'overridden' ? given! : llm;
      g.outcomes.push({ llm, final, decision: final === llm ? 'approved' : 'overridden', maxScore: c.maxPoints });
    }
  }
  return [...groups.entries()].map(([key, g]) => ({ key, label: g.label, summary: summarizeAgreement(g.outcomes) }));
}

export async function agreementReport(db: Db, courseId: number, filter: { taskId?: number; promptVersionId?: number }): Promise<AgreementReport> {
  const rows = await listDecided(db, courseId, filter);
  return {
    overall: summarizeAgreement(rows.map(outcome)),
    byTask: grouped(rows, (r) => String(r.taskId), (r) => r.taskTitle),
    byPromptVersion: grouped(rows, (r) => String(r.promptVersionId), (r) => `${r.taskTitle} — prompt v${r.promptVersion}`),
    byCriterion: criterionGroups(rows),
    timeline: grouped(rows, (r) => r.reviewedAt.toISOString().slice(0, 10), (r) => r.reviewedAt.toISOString().slice(0, 10)).sort((a, b) => a.key.localeCompare(b.key)),
  };
}

export interface ChartModel {
  width: number;
  height: number;
  /** Plot area. */
  left: number;
  top: number;
  plotWidth: number;
  plotHeight: number;
  series: Array<{ name: string; className: string; points: string; dots: Array<{ x: number; y: number; label: string }> }>;
  xLabels: Array<{ x: number; text: string }>;
  yTicks: Array<{ y: number; text: string }>;
}

/**
 * The timeline as an SVG line chart (approval rate and MAD, both in % of the maximum): coordinates computed
 * here, drawn by the view. A single day is drawn as dots.
 */
export function agreementChart(timeline: AgreementGroup[]): ChartModel {
  const width = 640;
  const height = 240;
  const left = 44;
  const top = 12;
  const plotWidth = width - left - 16;
  const plotHeight = height - top - 40;
  const n = timeline.length;
  const x = (i: number) => Math.round(left + (n <= 1 ? plotWidth / 2 : (i * plotWidth) / (n - 1)));
  const y = (pct: number) => Math.round(top + plotHeight - (Math.max(0, Math.min(100, pct)) * plotHeight) / 100);
  const seriesOf = (name: string, className: string, value: (s: AgreementSummary) => number | null) => {
    const dots = timeline.flatMap((g, i) => {
      const v = value(g.summary);
      return v == null ? [] : [{ x: x(i), y: y(v), label: `${g.label}: ${name} ${v.toFixed(1)}%` }];
    });
    return { name, className, points: dots.map((d) => `${d.x},${d.y}`).join(' '), dots };
  };
  const every = Math.max(1, Math.ceil(n / 8));
  return {
    width,
    height,
    left,
    top,
    plotWidth,
    plotHeight,
    series: [
      seriesOf('approval rate', 'series-approval', (s) => (s.approvalRate == null ? null : s.approvalRate * 100)),
      seriesOf('mean absolute difference (% of max)', 'series-mad', (s) => s.meanAbsoluteDifferencePct),
    ],
    xLabels: timeline.flatMap((g, i) => (i % every === 0 || i === n - 1 ? [{ x: x(i), text: g.label.slice(5) }] : [])),
    yTicks: [0, 25, 50, 75, 100].map((v) => ({ y: y(v), text: `${v}%` })),
  };
}
