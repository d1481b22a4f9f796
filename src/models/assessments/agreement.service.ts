import type { Db } from '../../db/db.js';
import { summarizeAgreement, type AgreementSummary, type ReviewOutcome } from '../../analytics/agreement.js';
import { listDecided, type DecidedRow } from './review.repository.js';
import { OVERRIDE_CATEGORIES, type OverrideCategory } from './override-category.js';

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
  /** Overrides by what was wrong, per prompt version and where the instructor changed the grade. */
  overrideCategories: OverrideCategoryGroup[];
}

/** Overrides of one prompt version at one place (a criterion, or the overall score alone), counted by category. */
export interface OverrideCategoryGroup {
  promptVersionId: number;
  versionLabel: string;
  /** A criterion's id, or '' for overrides of the overall score alone. */
  criterionId: string;
  criterionName: string;
  counts: Record<OverrideCategory | 'none', number>;
  total: number;
}

const OVERALL = { id: '', name: 'Overall score only' };

/**
 * Where an override changed the model's grade: the criteria whose points the instructor set differently (all of them
 * given, the score their sum), or the overall score alone. An override that gave every criterion the model's own
 * points changed nothing per criterion and counts as the overall score's.
 */
function placesOf(r: DecidedRow): Array<{ id: string; name: string }> {
  if (!r.overrideCriteria || !Object.keys(r.overrideCriteria).length) return [OVERALL];
  const model = (r.result?.criteria ?? {}) as Record<string, { score?: number }>;
  const changed = r.rubric.filter((c) => {
    const given = r.overrideCriteria![c.id];
    const llm = model[c.id]?.score;
    return given !== undefined && (typeof llm !== 'number' || Math.abs(given - llm) > 0.005);
  });
  return changed.length ? changed.map((c) => ({ id: c.id, name: c.name })) : [OVERALL];
}

/**
 * Override categories per prompt version and criterion, so an instructor sees what to fix in the prompt ("v3:
 * Evidence too lenient 6 times"). An override changing two criteria counts under each. Versions in order, then
 * criteria in rubric order, the overall score last.
 */
export function overrideCategoryGroups(rows: DecidedRow[]): OverrideCategoryGroup[] {
  const groups = new Map<string, OverrideCategoryGroup & { order: number[] }>();
  for (const r of rows) {
    if (r.reviewStatus !== 'overridden') continue;
    for (const place of placesOf(r)) {
      const key = `${r.promptVersionId}:${place.id}`;
      let g = groups.get(key);
      if (!g) {
        const at = place.id ? r.rubric.findIndex((c) => c.id === place.id) : r.rubric.length;
        const counts = Object.fromEntries([...OVERRIDE_CATEGORIES, 'none'].map((c) => [c, 0])) as OverrideCategoryGroup['counts'];
        g = { promptVersionId: r.promptVersionId, versionLabel: `${r.taskTitle} — prompt v${r.promptVersion}`, criterionId: place.id, criterionName: place.name, counts, total: 0, order: [r.taskId, r.promptVersion, at] };
        groups.set(key, g);
      }
      g.counts[r.overrideCategory ?? 'none'] += 1;
      g.total += 1;
    }
  }
  const byOrder = (a: number[], b: number[]) => {
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
    return 0;
  };
  return [...groups.values()].sort((a, b) => byOrder(a.order, b.order)).map(({ order: _order, ...g }) => g);
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
    overrideCategories: overrideCategoryGroups(rows),
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
