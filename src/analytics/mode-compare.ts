/**
 * Batch against real-time (issue 22, item 2): the same requests graded both ways, compared. The seed named "batch
 * processing leading to lower quality" as a risk; a batch sends the very request a real-time call sends, so any
 * difference is the provider's. Pure, like the other figures: the check's report and its tests share them.
 */
import { scoreAgreement, type ScoreAgreement } from './agreement.js';
import { pairedMeanDifference, type Interval } from './ab-compare.js';

export interface ModePair {
  batch: number;
  realtime: number;
}

export interface ModeComparison {
  n: number;
  /** Share of items with the very same score both ways. */
  identical: number | null;
  /** Real-time minus batch, per item: its mean with a normal-approximation 95 % CI (a systematic shift), and |mean|. */
  meanDifference: (Interval & { se: number }) | null;
  meanAbsoluteDifference: number | null;
  /** Differences rounded to whole points, from −2 or less to +2 or more: how far and which way they go. */
  distribution: Array<{ label: string; count: number }>;
  /** The batch score taken as the reference: kappa, MAE, exact and adjacent agreement of real-time with it. */
  agreement: ScoreAgreement;
}

const BUCKETS = ['≤ −2', '−1', '0', '+1', '≥ +2'];

export function compareModes(pairs: ModePair[], maxScore: number): ModeComparison {
  const diffs = pairs.map((p) => p.realtime - p.batch);
  const distribution = BUCKETS.map((label) => ({ label, count: 0 }));
  for (const d of diffs) distribution[Math.min(4, Math.max(0, Math.round(d) + 2))]!.count += 1;
  return {
    n: pairs.length,
    identical: pairs.length ? diffs.filter((d) => Math.abs(d) < 0.005).length / pairs.length : null,
    meanDifference: pairedMeanDifference(diffs),
    meanAbsoluteDifference: pairs.length ? diffs.reduce((s, d) => s + Math.abs(d), 0) / pairs.length : null,
    distribution,
    agreement: scoreAgreement(pairs.map((p) => ({ llm: p.realtime, final: p.batch })), maxScore),
  };
}
