import { describe, expect, it } from '@jest/globals';
import { categoryAgreement, scoreAgreement } from '../src/analytics/agreement.js';
import { reliabilityTable, suggestThreshold, type ConfidenceOutcome } from '../src/analytics/calibration.js';

const pairs = (xs: Array<[number, number]>) => xs.map(([llm, final]) => ({ llm, final }));
const outcomes = (xs: Array<[number | null, boolean]>): ConfidenceOutcome[] => xs.map(([confidence, unchanged]) => ({ confidence, unchanged }));

describe('exact and adjacent agreement', () => {
  it('counts pairs in the same category, and at most one apart, after rounding and clamping', () => {
    // (3,3) exact; (2.4,3) → 2 vs 3 adjacent; (0,2) two apart; (7,5) clamped to 5 vs 5 exact.
    expect(categoryAgreement(pairs([[3, 3], [2.4, 3], [0, 2], [7, 5]]), 0, 5)).toEqual({ exact: 0.5, adjacent: 0.75 });
    expect(categoryAgreement([], 0, 5)).toBeNull();
  });

  it('scoreAgreement gathers QWK, MAE, exact and adjacent on one scale', () => {
    // The first hand computation of analytics.agreement.test.ts: QWK 0.8 on 0..2; MAE 1/4; exact 3/4; adjacent 1.
    expect(scoreAgreement(pairs([[0, 0], [1, 1], [2, 1], [2, 2]]), 2)).toEqual({ n: 4, qwk: expect.closeTo(0.8, 12), mae: 0.25, exact: 0.75, adjacent: 1 });
    expect(scoreAgreement([], 10)).toEqual({ n: 0, qwk: null, mae: null, exact: null, adjacent: null });
  });
});

describe('confidence calibration', () => {
  it('puts each result in its confidence bucket with the share approved unchanged', () => {
    const table = reliabilityTable(outcomes([[0.2, false], [null, false], [0.5, true], [0.55, false], [0.69, true], [0.7, true], [0.95, true], [1, true], [0.9, false]]));
    expect(table.map((r) => [r.from, r.n, r.unchanged])).toEqual([
      [0, 2, 0],
      [0.5, 2, 1],
      [0.6, 1, 1],
      [0.7, 1, 1],
      [0.8, 0, 0],
      [0.9, 3, 2],
    ]);
    expect(table[1]!.share).toBe(0.5);
    expect(table[4]!.share).toBeNull();
    expect(table[5]!.to).toBe(1);
  });

  it('suggests the lowest threshold that keeps changed results under the target, with its figures', () => {
    // 10 results at 0.8 with 1 changed (10 %), 5 at 0.6 with 3 changed, 5 at 0.3 with 4 changed.
    const xs = outcomes([
      ...Array.from({ length: 10 }, (_, i) => [0.8, i !== 0] as [number, boolean]),
      ...Array.from({ length: 5 }, (_, i) => [0.6, i < 2] as [number, boolean]),
      ...Array.from({ length: 5 }, (_, i) => [0.3, i < 1] as [number, boolean]),
    ]);
    // At 0: 8 of 20 changed (40 %); at 0.35: 4 of 15 (27 %); at 0.65: 1 of 10 (10 %) — the first within 10 %.
    expect(suggestThreshold(xs, 0.1)).toEqual({ threshold: 0.65, above: { n: 10, changed: 1 }, below: { n: 10, changed: 7 } });
    // A looser target is met lower down; a target nothing meets with enough decisions above it says so.
    expect(suggestThreshold(xs, 0.3)).toMatchObject({ threshold: 0.35, above: { n: 15, changed: 4 } });
    expect(suggestThreshold(xs, 0.05)).toEqual({ threshold: null, reason: 'never_met', decided: 20 });
    expect(suggestThreshold(xs.slice(0, 9), 0.1)).toEqual({ threshold: null, reason: 'too_few', decided: 9 });
    // Everything approved: no confidence needs review.
    expect(suggestThreshold(outcomes(Array.from({ length: 12 }, () => [0.4, true])), 0.1)).toMatchObject({ threshold: 0, below: { n: 0, changed: 0 } });
  });
});
