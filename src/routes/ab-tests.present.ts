import { BOOTSTRAP_RESAMPLES, BOOTSTRAP_SEED, MIN_ITEMS_PER_ARM, type Interval, type Verdict } from '../analytics/ab-compare.js';
import type { AbComparison, ArmFigures, PairedComparison } from '../analytics/ab-report.js';
import type { AbTestResults } from '../models/prompts/ab-tests.service.js';
import type { PairedPlan } from '../models/prompts/ab-paired.service.js';
import { formatDateTime } from './present.js';

/* The A/B test page's words and numbers: every figure with its interval and the interval's method named. */

const pct = (x: number) => `${(100 * x).toFixed(1)} %`;
const pts = (x: number) => x.toFixed(2);
const signed = (x: number, f: (x: number) => string) => `${x > 0 ? '+' : x < 0 ? '−' : ''}${f(Math.abs(x))}`;
const ci = (i: Interval | null, f: (x: number) => string) => (i ? `${signed(i.estimate, f)} (95 % CI ${signed(i.lo, f)} to ${signed(i.hi, f)})` : '—');

export const METHODS = {
  approval: 'Wilson score interval per version; the difference by Newcombe’s hybrid score interval',
  mae: 'normal approximation (Welch’s standard error; for a paired comparison, of the per-item differences)',
  kappa: `bootstrap percentile interval (${BOOTSTRAP_RESAMPLES.toLocaleString('en')} resamples, fixed seed ${BOOTSTRAP_SEED})`,
};

/** The verdict in words: which version agrees better, or how many more reviewed items are needed. */
export function verdictText(v: Verdict): string {
  const interval = v.ci ? `MAE difference B − A ${ci(v.ci, pts)} points` : 'no MAE difference yet';
  if (v.kind === 'better') return `Version ${v.arm} agrees better with your decisions: its scores are ${pts(v.by)} points closer to yours on average (${interval}, normal approximation).`;
  if (v.kind === 'no_difference') return `No difference that matters: both versions agree with your decisions about equally well (${interval}).`;
  return `Not enough reviewed items yet: need ~${v.more} more (at least ${MIN_ITEMS_PER_ARM} per version, and enough for the interval to exclude 0; ${interval}).`;
}

function armCell(a: ArmFigures) {
  return {
    n: a.n,
    approval: a.approvalRate ? `${pct(a.approvalRate.estimate)} (95 % CI ${pct(a.approvalRate.lo)}–${pct(a.approvalRate.hi)})` : '—',
    mae: a.mae === null ? '—' : pts(a.mae),
    kappa: a.kappa === null ? '—' : a.kappa.toFixed(2),
  };
}

/** Bars of one figure for A and B (the shared _bar-chart partial: widths in percent of the larger value). */
function bars(values: Array<{ label: string; value: number | null; display: string }>) {
  const top = Math.max(1e-9, ...values.map((v) => v.value ?? 0));
  return values.filter((v) => v.value !== null).map((v) => ({ label: v.label, display: v.display, width: (100 * v.value!) / top }));
}

function presentComparison(c: AbComparison) {
  const A = armCell(c.A);
  const B = armCell(c.B);
  return {
    verdict: verdictText(c.verdict),
    verdictKind: c.verdict.kind,
    A,
    B,
    rows: [
      { metric: 'Approved as graded', a: A.approval, b: B.approval, diff: ci(c.approvalDifference, pct), method: METHODS.approval },
      { metric: 'Mean absolute difference from your score (points)', a: A.mae, b: B.mae, diff: ci(c.maeDifference, pts), method: METHODS.mae },
      { metric: 'Quadratic weighted kappa', a: A.kappa, b: B.kappa, diff: ci(c.kappaDifference, (x) => x.toFixed(2)), method: METHODS.kappa },
    ],
    approvalBars: bars([
      { label: 'A', value: c.A.approvalRate?.estimate ?? null, display: A.approval },
      { label: 'B', value: c.B.approvalRate?.estimate ?? null, display: B.approval },
    ]),
    maeBars: bars([
      { label: 'A', value: c.A.mae, display: `${A.mae} points` },
      { label: 'B', value: c.B.mae, display: `${B.mae} points` },
    ]),
    criteria: c.criteria.map((k) => ({ name: k.name, n: `${k.nA} / ${k.nB}`, a: k.maeA === null ? '—' : pts(k.maeA), b: k.maeB === null ? '—' : pts(k.maeB), diff: ci(k.difference, pts) })),
  };
}

function presentPaired(p: PairedComparison | null) {
  if (!p) return null;
  return {
    n: p.n,
    maeA: p.maeA === null ? '—' : pts(p.maeA),
    maeB: p.maeB === null ? '—' : pts(p.maeB),
    maeDiff: ci(p.maeDifference, pts),
    kappaDiff: ci(p.kappaDifference, (x) => x.toFixed(2)),
    verdict: verdictText(p.verdict),
  };
}

const usd = (micros: number) => `$${(micros / 1e6).toFixed(micros < 10_000 ? 4 : 2)}`;

export function presentResults(r: AbTestResults, plan: PairedPlan | null) {
  const running = r.test.status === 'running';
  const winner = r.test.winnerVersionId === r.A.id ? 'A' : r.test.winnerVersionId === r.B.id ? 'B' : null;
  const suggested = r.comparison.verdict.kind === 'better' ? r.comparison.verdict.arm : 'A';
  return {
    running,
    versionA: r.A.version,
    versionB: r.B.version,
    shareB: r.test.shareB,
    started: formatDateTime(r.test.createdAt),
    ended: r.test.endedAt ? formatDateTime(r.test.endedAt) : null,
    winner: winner ? `Version ${winner} (v${winner === 'A' ? r.A.version : r.B.version})` : null,
    assigned: r.assigned,
    comparison: presentComparison(r.comparison),
    paired: presentPaired(r.paired),
    plan: running && plan ? { items: plan.requests.length, worst: usd(plan.worstMicros) } : null,
    suggested,
  };
}
