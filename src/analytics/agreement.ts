/**
 * How well LLM grades agree with the grades instructors finally gave. Pure functions over (llm, final) score
 * pairs, so the analytics page, the API and the tests share one definition.
 */

export interface ScorePair {
  llm: number;
  final: number;
}

/**
 * Quadratic weighted kappa (Cohen 1968) on integer categories lo..hi: 1 is perfect agreement, 0 what chance
 * alone gives, below 0 worse than chance. Scores are rounded to the nearest category and clamped into range.
 * Null when it is undefined: no pairs, or no variation at all (every score in one category).
 */
export function quadraticWeightedKappa(pairs: ScorePair[], lo: number, hi: number): number | null {
  const n = pairs.length;
  const k = hi - lo + 1;
  if (n === 0 || k < 2) return null;
  const category = (x: number) => Math.min(k - 1, Math.max(0, Math.round(x) - lo));
  const observed = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  const histA = new Array<number>(k).fill(0);
  const histB = new Array<number>(k).fill(0);
  for (const p of pairs) {
    const a = category(p.llm);
    const b = category(p.final);
    observed[a]![b]! += 1;
    histA[a]! += 1;
    histB[b]! += 1;
  }
  let weightedObserved = 0;
  let weightedExpected = 0;
  for (let i = 0; i < k; i++) {
    for (let j = 0; j < k; j++) {
      const w = ((i - j) * (i - j)) / ((k - 1) * (k - 1));
      weightedObserved += w * observed[i]![j]!;
      weightedExpected += (w * histA[i]! * histB[j]!) / n;
    }
  }
  if (weightedExpected === 0) return null;
  return 1 - weightedObserved / weightedExpected;
}

export function meanAbsoluteDifference(pairs: ScorePair[]): number | null {
  if (!pairs.length) return null;
  return pairs.reduce((sum, p) => sum + Math.abs(p.llm - p.final), 0) / pairs.length;
}

export interface ReviewOutcome {
  /** The model's score and the score that went to the gradebook (the same unless overridden). */
  llm: number;
  final: number;
  decision: 'approved' | 'overridden';
  maxScore: number;
}

export interface AgreementSummary {
  reviewed: number;
  approvalRate: number | null;
  overrideRate: number | null;
  meanAbsoluteDifference: number | null;
  /** MAD as a share of the maximum score, comparable across tasks. */
  meanAbsoluteDifferencePct: number | null;
  kappa: number | null;
}

/**
 * Agreement over reviewed assessments. Kappa uses integer points 0..max when every outcome shares one maximum
 * (one task); across tasks with different maxima, scores become whole percentages (0..100) first.
 */
export function summarizeAgreement(outcomes: ReviewOutcome[]): AgreementSummary {
  const reviewed = outcomes.length;
  if (!reviewed) return { reviewed, approvalRate: null, overrideRate: null, meanAbsoluteDifference: null, meanAbsoluteDifferencePct: null, kappa: null };
  const approved = outcomes.filter((o) => o.decision === 'approved').length;
  const sameMax = outcomes.every((o) => o.maxScore === outcomes[0]!.maxScore);
  const pairs = outcomes.map((o) => ({ llm: o.llm, final: o.final }));
  const pctPairs = outcomes.map((o) => ({ llm: (100 * o.llm) / o.maxScore, final: (100 * o.final) / o.maxScore }));
  const kappa = sameMax && outcomes[0]!.maxScore <= 100 ? quadraticWeightedKappa(pairs, 0, Math.round(outcomes[0]!.maxScore)) : quadraticWeightedKappa(pctPairs, 0, 100);
  return {
    reviewed,
    approvalRate: approved / reviewed,
    overrideRate: (reviewed - approved) / reviewed,
    meanAbsoluteDifference: sameMax ? meanAbsoluteDifference(pairs) : null,
    meanAbsoluteDifferencePct: meanAbsoluteDifference(pctPairs),
    kappa,
  };
}

/**
 * Exact and adjacent agreement on the same integer categories as the kappa (scores rounded to the nearest point,
 * clamped into lo..hi): exact when both fall in one category, adjacent when they are at most one apart (the usual
 * figure for essay scoring, next to QWK). Null without pairs.
 */
export function categoryAgreement(pairs: ScorePair[], lo: number, hi: number): { exact: number; adjacent: number } | null {
  if (!pairs.length) return null;
  const category = (x: number) => Math.min(hi, Math.max(lo, Math.round(x)));
  let exact = 0;
  let adjacent = 0;
  for (const p of pairs) {
    const d = Math.abs(category(p.llm) - category(p.final));
    if (d === 0) exact += 1;
    if (d <= 1) adjacent += 1;
  }
  return { exact: exact / pairs.length, adjacent: adjacent / pairs.length };
}

export interface ScoreAgreement {
  n: number;
  /** Quadratic weighted kappa on whole points 0..max (null: undefined, see quadraticWeightedKappa). */
  qwk: number | null;
  /** Mean absolute error, in points. */
  mae: number | null;
  exact: number | null;
  adjacent: number | null;
}

/**
 * The agreement figures of a labelled set against a model, on one scale 0..max (a task's score or one criterion's
 * points): what `npm run eval` prints. The same kappa as the Agreement page, on the same categories.
 */
export function scoreAgreement(pairs: ScorePair[], max: number): ScoreAgreement {
  const hi = Math.max(1, Math.round(max));
  const cat = categoryAgreement(pairs, 0, hi);
  return { n: pairs.length, qwk: quadraticWeightedKappa(pairs, 0, hi), mae: meanAbsoluteDifference(pairs), exact: cat?.exact ?? null, adjacent: cat?.adjacent ?? null };
}
