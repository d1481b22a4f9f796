import type { Db } from '../../db/db.js';
import { OVERRIDE_CATEGORIES, overrideCategoryLabel } from '../assessments/override-category.js';
import { ratingSummary } from './ratings.repository.js';
import { hoursToFeedback, kpiFacts, overrideCategoriesOfPeriod, platformDays, queueArrivals, type Period } from './monitoring.repository.js';

/**
 * The administrator's monitoring (seed §9 and §11): KPI tiles against the seed's targets and the series behind them,
 * for one platform over a period. Ratios are null when there is nothing to divide (no tile turns green on no data).
 */

export interface Kpi {
  key: string;
  label: string;
  /** A share (0–1) or, for satisfaction, a mean rating (1–5). */
  value: number | null;
  target: number;
  kind: 'share' | 'rating';
  /** What the value is counted over. */
  basis: string;
  met: boolean | null;
}

const share = (part: number, whole: number) => (whole > 0 ? part / whole : null);

export async function kpisOf(db: Db, p: Period): Promise<Kpi[]> {
  const [f, rating] = await Promise.all([kpiFacts(db, p), ratingSummary(db, p.platformId, p.from, p.to)]);
  const tiles: Array<Omit<Kpi, 'met'>> = [
    { key: 'queue_4h', label: 'Through the queue in under 4 hours', value: share(f.through_queue_4h, f.through_queue), target: 0.95, kind: 'share', basis: `${f.through_queue} LLM results` },
    { key: 'batch_success', label: 'Batches that succeeded', value: share(f.batches_completed, f.batches_finished), target: 0.98, kind: 'share', basis: `${f.batches_finished} finished batches` },
    { key: 'approval', label: 'LLM results approved as they were', value: share(f.approved, f.decided), target: 0.85, kind: 'share', basis: `${f.decided} decisions` },
    { key: 'feedback_6h', label: 'Feedback within 6 hours of hand-in', value: share(f.released_6h, f.released), target: 0.9, kind: 'share', basis: `${f.released} released results` },
    { key: 'adoption', label: 'Tasks using LLM assessment', value: share(f.tasks_using, f.tasks_eligible), target: 0.7, kind: 'share', basis: `${f.tasks_eligible} active tasks` },
    { key: 'satisfaction', label: 'Students satisfied with feedback timing', value: rating.mean, target: 4.0, kind: 'rating', basis: `${rating.n} ratings` },
  ];
  // The rating target is "above 4.0"; the shares are "at least" (95 % through in < 4 h…).
  return tiles.map((t) => ({ ...t, met: t.value == null ? null : t.kind === 'rating' ? t.value > t.target : t.value >= t.target }));
}

export const FEEDBACK_BUCKETS: Array<{ label: string; below: number }> = [
  { label: 'under 1 h', below: 1 },
  { label: '1–4 h', below: 4 },
  { label: '4–6 h', below: 6 },
  { label: '6–12 h', below: 12 },
  { label: '12–24 h', below: 24 },
  { label: '1–2 days', below: 48 },
  { label: 'over 2 days', below: Infinity },
];

export function feedbackDistribution(hours: number[]): Array<{ label: string; n: number }> {
  const counts = FEEDBACK_BUCKETS.map((b) => ({ label: b.label, n: 0 }));
  for (const h of hours) counts[FEEDBACK_BUCKETS.findIndex((b) => h < b.below)]!.n += 1;
  return counts;
}

/**
 * Overrides by what was wrong with the model's grade: every category in its fixed order (0 included, so periods
 * compare), then those decided before categories existed, when there are any.
 */
export function categoryCounts(rows: Array<{ category: string | null; n: number }>): Array<{ reason: string; n: number }> {
  const n = (c: string | null) => rows.filter((r) => r.category === c).reduce((acc, r) => acc + Number(r.n), 0);
  const out = OVERRIDE_CATEGORIES.map((c) => ({ reason: overrideCategoryLabel(c), n: n(c) }));
  const none = n(null);
  return none ? [...out, { reason: overrideCategoryLabel(null), n: none }] : out;
}

export interface Monitoring {
  kpis: Kpi[];
  arrivals: { byHour: number[]; byWeekday: number[] };
  feedback: Array<{ label: string; n: number }>;
  days: Awaited<ReturnType<typeof platformDays>>;
  providers: Array<{ provider: string; n: number }>;
  overrides: { count: number; reasons: Array<{ reason: string; n: number }> };
}

/** Everything the monitoring page shows for the period. */
export async function monitoringOf(db: Db, p: Period): Promise<Monitoring> {
  const [kpis, arrivals, hours, days, overrides] = await Promise.all([kpisOf(db, p), queueArrivals(db, p), hoursToFeedback(db, p), platformDays(db, p), overrideCategoriesOfPeriod(db, p)]);
  const providers = new Map<string, number>();
  for (const d of days) for (const [k, n] of Object.entries(d.provider_counts ?? {})) providers.set(k, (providers.get(k) ?? 0) + n);
  return {
    kpis,
    arrivals,
    feedback: feedbackDistribution(hours),
    days,
    providers: [...providers.entries()].map(([provider, n]) => ({ provider, n })).sort((a, b) => b.n - a.n),
    overrides: { count: overrides.reduce((acc, r) => acc + Number(r.n), 0), reasons: categoryCounts(overrides) },
  };
}

/** The period's days before today (UTC), at most `limit`: what the rollup can compute (today is not over yet). */
export function pastDaysOf(p: Period, limit = 92): string[] {
  const out: string[] = [];
  const today = new Date().toISOString().slice(0, 10);
  for (let t = Date.UTC(p.from.getUTCFullYear(), p.from.getUTCMonth(), p.from.getUTCDate()); t < p.to.getTime() && out.length < limit; t += 86_400_000) {
    const day = new Date(t).toISOString().slice(0, 10);
    if (day < today) out.push(day);
  }
  return out;
}
