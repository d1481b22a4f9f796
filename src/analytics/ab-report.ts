import { meanAbsoluteDifference, quadraticWeightedKappa, type ScorePair } from './agreement.js';
import { kappaDifference, newcombeDifference, pairedMeanDifference, unpairedMeanDifference, verdictOf, wilson, type Interval, type Verdict } from './ab-compare.js';

/**
 * The figures of an A/B test's results page, from the decided items of each arm (and, for a paired comparison,
 * items both versions graded). One function per shape so the page and the tests agree on every number.
 */

/** A reviewed item of one arm: the model's score, the score the instructor decided, and per criterion the same. */
export interface ArmItem {
  llm: number;
  final: number;
  approved: boolean;
  /** Criteria the decision speaks for: every one on an approval, those given on an override. */
  criteria: Record<string, { llm: number; final: number }>;
}

/** An item both versions graded: the instructor's decided score against A's and B's. */
export interface PairedItem {
  a: number;
  b: number;
  final: number;
}

export interface ArmFigures {
  n: number;
  approvals: number;
  approvalRate: Interval | null;
  mae: number | null;
  kappa: number | null;
}

export interface CriterionComparison {
  id: string;
  name: string;
  maxPoints: number;
  nA: number;
  nB: number;
  maeA: number | null;
  maeB: number | null;
  /** MAE B − A, normal approximation. */
  difference: Interval | null;
}

export interface AbComparison {
  A: ArmFigures;
  B: ArmFigures;
  /** Approval rate B − A (Newcombe). */
  approvalDifference: Interval | null;
  /** MAE B − A in points (normal approximation, Welch). */
  maeDifference: (Interval & { se: number }) | null;
  /** Kappa B − A (bootstrap percentile). */
  kappaDifference: Interval | null;
  criteria: CriterionComparison[];
  verdict: Verdict;
}

export interface PairedComparison {
  n: number;
  maeA: number | null;
  maeB: number | null;
  /** Mean of |B − final| − |A − final| per item, normal approximation. */
  maeDifference: (Interval & { se: number }) | null;
  kappaDifference: Interval | null;
  verdict: Verdict;
}

const pairsOf = (items: ArmItem[]): ScorePair[] => items.map((i) => ({ llm: i.llm, final: i.final }));
const errorsOf = (pairs: ScorePair[]) => pairs.map((p) => Math.abs(p.llm - p.final));

function armFigures(items: ArmItem[], maxScore: number): ArmFigures {
  const approvals = items.filter((i) => i.approved).length;
  const pairs = pairsOf(items);
  return { n: items.length, approvals, approvalRate: wilson(approvals, items.length), mae: meanAbsoluteDifference(pairs), kappa: quadraticWeightedKappa(pairs, 0, Math.max(1, Math.round(maxScore))) };
}

function criterionComparison(c: { id: string; name: string; maxPoints: number }, a: ArmItem[], b: ArmItem[]): CriterionComparison {
  const pairs = (items: ArmItem[]) => items.flatMap((i) => (i.criteria[c.id] ? [i.criteria[c.id]!] : []));
  const pa = pairs(a);
  const pb = pairs(b);
  const diff = unpairedMeanDifference(errorsOf(pa), errorsOf(pb));
  return { ...c, nA: pa.length, nB: pb.length, maeA: meanAbsoluteDifference(pa), maeB: meanAbsoluteDifference(pb), difference: diff };
}

/** Each arm's own decided items: the split test. `criteria` are those both versions' rubrics share. */
export function compareArms(a: ArmItem[], b: ArmItem[], maxScore: number, criteria: Array<{ id: string; name: string; maxPoints: number }>): AbComparison {
  const maeDifference = unpairedMeanDifference(errorsOf(pairsOf(a)), errorsOf(pairsOf(b)));
  return {
    A: armFigures(a, maxScore),
    B: armFigures(b, maxScore),
    approvalDifference: newcombeDifference(a.filter((i) => i.approved).length, a.length, b.filter((i) => i.approved).length, b.length),
    maeDifference,
    kappaDifference: kappaDifference(pairsOf(a), pairsOf(b), maxScore, false),
    criteria: criteria.map((c) => criterionComparison(c, a, b)),
    verdict: verdictOf(maeDifference, a.length + b.length, Math.min(a.length, b.length)),
  };
}

/** Items both versions graded, against the one decision the instructor made on each. */
export function comparePaired(items: PairedItem[], maxScore: number): PairedComparison {
  const pairsA = items.map((i) => ({ llm: i.a, final: i.final }));
  const pairsB = items.map((i) => ({ llm: i.b, final: i.final }));
  const maeDifference = pairedMeanDifference(items.map((i) => Math.abs(i.b - i.final) - Math.abs(i.a - i.final)));
  return {
    n: items.length,
    maeA: meanAbsoluteDifference(pairsA),
    maeB: meanAbsoluteDifference(pairsB),
    maeDifference,
    kappaDifference: kappaDifference(pairsA, pairsB, maxScore, true),
    // Each pair is one item graded twice: the minimum applies to the pairs themselves.
    verdict: verdictOf(maeDifference, items.length, items.length, 1),
  };
}
