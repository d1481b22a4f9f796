import { describe, expect, it } from '@jest/globals';
import { meanAbsoluteDifference, quadraticWeightedKappa, summarizeAgreement } from '../src/analytics/agreement.js';

const pairs = (xs: Array<[number, number]>) => xs.map(([llm, final]) => ({ llm, final }));

describe('agreement statistics', () => {
  it('quadratic weighted kappa matches a hand computation', () => {
    // Categories 0..2, pairs (0,0) (1,1) (2,1) (2,2):
    // W = (i-j)^2/4; sum W*O = 0.25 (the (2,1) pair).
    // Marginals A = [1,1,2], B = [1,2,1], n = 4; sum W*E = 0.375 + 0.125 + 0.75 = 1.25.
    // kappa = 1 - 0.25 / 1.25 = 0.8.
    expect(quadraticWeightedKappa(pairs([[0, 0], [1, 1], [2, 1], [2, 2]]), 0, 2)).toBeCloseTo(0.8, 12);
  });

  it('quadratic weighted kappa matches a second hand computation with disagreement both ways', () => {
    // Categories 0..3, pairs (0,1) (1,0) (2,2) (3,3) (3,1):
    // W = (i-j)^2/9. Observed weights: (0,1) 1/9, (1,0) 1/9, (3,1) 4/9 → sum W*O = 6/9.
    // Marginals A = [1,1,1,2], B = [1,2,1,1], n = 5.
    // sum W*E = (1/5) * sum_ij W_ij A_i B_j:
    //  i=0 (A=1): j=0..3 → 0*1 + (1/9)*2 + (4/9)*1 + (9/9)*1 = 15/9
    //  i=1 (A=1): (1/9)*1 + 0 + (1/9)*1 + (4/9)*1 = 6/9
    //  i=2 (A=1): (4/9)*1 + (1/9)*2 + 0 + (1/9)*1 = 7/9
    //  i=3 (A=2): 2*[(9/9)*1 + (4/9)*2 + (1/9)*1 + 0] = 2*18/9 = 36/9
    //  total 64/9, /5 → 64/45. kappa = 1 - (6/9)/(64/45) = 1 - 30/64 = 0.53125.
    expect(quadraticWeightedKappa(pairs([[0, 1], [1, 0], [2, 2], [3, 3], [3, 1]]), 0, 3)).toBeCloseTo(0.53125, 12);
  });

  it('is 1 for perfect agreement, and undefined without variation or pairs', () => {
    expect(quadraticWeightedKappa(pairs([[0, 0], [5, 5], [10, 10]]), 0, 10)).toBe(1);
    expect(quadraticWeightedKappa(pairs([[4, 4], [4, 4]]), 0, 10)).toBeNull();
    expect(quadraticWeightedKappa([], 0, 10)).toBeNull();
  });

  it('rounds fractional scores to categories and clamps them into range', () => {
    expect(quadraticWeightedKappa(pairs([[0.4, 0], [1.6, 2], [2.2, 2], [-1, 0], [7, 2]]), 0, 2)).toBe(1);
  });

  it('mean absolute difference and rates', () => {
    expect(meanAbsoluteDifference(pairs([[8, 10], [5, 5], [3, 2]]))).toBeCloseTo(1, 12);
    const summary = summarizeAgreement([
      { llm: 8, final: 8, decision: 'approved', maxScore: 10 },
      { llm: 6, final: 9, decision: 'overridden', maxScore: 10 },
      { llm: 9, final: 9, decision: 'approved', maxScore: 10 },
      { llm: 2, final: 2, decision: 'approved', maxScore: 10 },
    ]);
    expect(summary).toMatchObject({ reviewed: 4, approvalRate: 0.75, overrideRate: 0.25, meanAbsoluteDifference: 0.75, meanAbsoluteDifferencePct: 7.5 });
    // Categories 0..10, pairs (8,8) (6,9) (9,9) (2,2): sum W*O = 9/100 (the (6,9) pair).
    // sum W*E = (1/4)(1/100) sum (i-j)^2 A_i B_j with A = {2:1, 6:1, 8:1, 9:1}, B = {2:1, 8:1, 9:2}:
    //  A=2: 0 + 36 + 2*49 = 134;  A=6: 16 + 4 + 2*9 = 38;  A=8: 36 + 0 + 2*1 = 38;  A=9: 49 + 1 + 0 = 50
    //  total 260 → 260/400. kappa = 1 - (9/100)/(260/400) = 1 - 36/260.
    expect(summary.kappa).toBeCloseTo(1 - 36 / 260, 12);
  });

  it('compares tasks with different maxima on a percentage scale', () => {
    const summary = summarizeAgreement([
      { llm: 50, final: 50, decision: 'approved', maxScore: 100 },
      { llm: 5, final: 4, decision: 'overridden', maxScore: 10 },
    ]);
    expect(summary.meanAbsoluteDifference).toBeNull();
    expect(summary.meanAbsoluteDifferencePct).toBeCloseTo(5, 12);
    expect(summarizeAgreement([]).kappa).toBeNull();
  });
});
