/**
 * Two prompt versions compared by how well each agrees with the instructor's decisions (an A/B test). Pure, so the
 * results page and the tests compute every figure the same way. Methods, named on the page:
 * - approval rate: Wilson score interval per arm; the difference B − A by Newcombe's hybrid score interval (method 10);
 * - mean absolute difference (MAE, points): the difference B − A with a normal approximation (Welch's standard error
 *   for two arms; the standard error of the per-item differences when both versions graded the same items);
 * - quadratic weighted kappa per arm; its difference by a bootstrap percentile interval (1,000 resamples, fixed seed,
 *   so the page shows the same interval on every load).
 * The verdict reads the MAE difference: it is in points, and defined whatever the score spread (kappa is not).
 */
import { quadraticWeightedKappa, type ScorePair } from './agreement.js';

export const Z95 = 1.959964;
/** Below this many reviewed items in an arm (or pairs) no verdict is given, whatever the interval says. */
export const MIN_ITEMS_PER_ARM = 10;
export const BOOTSTRAP_RESAMPLES = 1000;
export const BOOTSTRAP_SEED = 22;

export interface Interval {
  estimate: number;
  lo: number;
  hi: number;
}

/** Wilson score interval for k successes in n (null without items). */
export function wilson(k: number, n: number, z = Z95): Interval | null {
  if (n <= 0) return null;
  const p = k / n;
  const z2 = z * z;
  const centre = (p + z2 / (2 * n)) / (1 + z2 / n);
  const half = (z / (1 + z2 / n)) * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n));
  return { estimate: p, lo: centre - half, hi: centre + half };
}

/** Newcombe's hybrid score interval for pB − pA, built from the two Wilson intervals. */
export function newcombeDifference(kA: number, nA: number, kB: number, nB: number): Interval | null {
  const a = wilson(kA, nA);
  const b = wilson(kB, nB);
  if (!a || !b) return null;
  const d = b.estimate - a.estimate;
  return {
    estimate: d,
    lo: d - Math.sqrt((b.estimate - b.lo) ** 2 + (a.hi - a.estimate) ** 2),
    hi: d + Math.sqrt((b.hi - b.estimate) ** 2 + (a.estimate - a.lo) ** 2),
  };
}

const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
/** Sample variance (n − 1); 0 for a single value. */
const variance = (xs: number[]) => (xs.length < 2 ? 0 : xs.reduce((s, x) => s + (x - mean(xs)) ** 2, 0) / (xs.length - 1));

/** Mean of errorsB − mean of errorsA, normal approximation with Welch's standard error. */
export function unpairedMeanDifference(errorsA: number[], errorsB: number[]): (Interval & { se: number }) | null {
  if (!errorsA.length || !errorsB.length) return null;
  const d = mean(errorsB) - mean(errorsA);
  const se = Math.sqrt(variance(errorsA) / errorsA.length + variance(errorsB) / errorsB.length);
  return { estimate: d, lo: d - Z95 * se, hi: d + Z95 * se, se };
}

/** The mean of per-item differences (B's error − A's error on the same item), normal approximation. */
export function pairedMeanDifference(differences: number[]): (Interval & { se: number }) | null {
  if (!differences.length) return null;
  const d = mean(differences);
  const se = Math.sqrt(variance(differences) / differences.length);
  return { estimate: d, lo: d - Z95 * se, hi: d + Z95 * se, se };
}

/** mulberry32: a small seeded generator, so a bootstrap gives the same interval every time. */
function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const resample = <T>(xs: T[], random: () => number): T[] => xs.map(() => xs[Math.floor(random() * xs.length)]!);

/**
 * kappa(B) − kappa(A), with a bootstrap percentile interval: each arm's pairs resampled with replacement (the same
 * items for both when paired), the 2.5th and 97.5th percentiles of the defined differences. Null when a kappa is
 * undefined on the data itself.
 */
export function kappaDifference(pairsA: ScorePair[], pairsB: ScorePair[], max: number, paired: boolean): Interval | null {
  const hi = Math.max(1, Math.round(max));
  const kA = quadraticWeightedKappa(pairsA, 0, hi);
  const kB = quadraticWeightedKappa(pairsB, 0, hi);
  if (kA === null || kB === null) return null;
  const random = seeded(BOOTSTRAP_SEED);
  const diffs: number[] = [];
  const indices = pairsA.map((_, i) => i);
  for (let r = 0; r < BOOTSTRAP_RESAMPLES; r++) {
    let a: number | null;
    let b: number | null;
    if (paired) {
      const picked = resample(indices, random);
      a = quadraticWeightedKappa(picked.map((i) => pairsA[i]!), 0, hi);
      b = quadraticWeightedKappa(picked.map((i) => pairsB[i]!), 0, hi);
    } else {
      a = quadraticWeightedKappa(resample(pairsA, random), 0, hi);
      b = quadraticWeightedKappa(resample(pairsB, random), 0, hi);
    }
    if (a !== null && b !== null) diffs.push(b - a);
  }
  if (!diffs.length) return null;
  diffs.sort((x, y) => x - y);
  const at = (q: number) => diffs[Math.min(diffs.length - 1, Math.max(0, Math.floor(q * diffs.length)))]!;
  return { estimate: kB - kA, lo: at(0.025), hi: at(0.975) };
}

export type Verdict =
  | { kind: 'better'; arm: 'A' | 'B'; by: number; ci: Interval }
  | { kind: 'no_difference'; ci: Interval }
  | { kind: 'need_more'; more: number; ci: Interval | null };

/**
 * What the MAE difference (B − A, points; below 0 means B is closer to the instructor) supports. With too few items,
 * or an interval across 0, it says how many more reviewed items would make the observed difference clear: the
 * standard error shrinks with √n, so n·(z·se/|d|)² items in all, less those there are. A difference under 0.05
 * points whose interval is within ±0.5 points is called no difference: more items would not change a decision.
 */
export function verdictOf(diff: (Interval & { se: number }) | null, itemsNow: number, smallestArm: number, arms = 2): Verdict {
  if (!diff) return { kind: 'need_more', more: Math.max(1, arms * MIN_ITEMS_PER_ARM - itemsNow), ci: null };
  const enough = smallestArm >= MIN_ITEMS_PER_ARM;
  if (enough && (diff.hi < 0 || diff.lo > 0)) return { kind: 'better', arm: diff.estimate < 0 ? 'B' : 'A', by: Math.abs(diff.estimate), ci: diff };
  if (enough && diff.lo >= -0.5 && diff.hi <= 0.5 && Math.abs(diff.estimate) < 0.05) return { kind: 'no_difference', ci: diff };
  const forMinimum = Math.max(0, MIN_ITEMS_PER_ARM - smallestArm) * arms;
  const needed = Math.abs(diff.estimate) < 1e-9 || diff.se === 0 ? 0 : Math.ceil(itemsNow * ((Z95 * diff.se) / Math.abs(diff.estimate)) ** 2);
  return { kind: 'need_more', more: Math.max(forMinimum, needed - itemsNow, 1), ci: diff };
}
