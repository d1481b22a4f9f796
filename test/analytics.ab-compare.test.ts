import { describe, expect, it } from '@jest/globals';
import { BOOTSTRAP_RESAMPLES, kappaDifference, newcombeDifference, pairedMeanDifference, unpairedMeanDifference, verdictOf, wilson } from '../src/analytics/ab-compare.js';
import { compareArms, comparePaired, type ArmItem } from '../src/analytics/ab-report.js';
import { armOf } from '../src/models/prompts/ab-split.js';

/*
 * The A/B statistics against hand computations (z = 1.959964 throughout; the arithmetic is written out so a reader can
 * redo it), and the split's determinism and share.
 */

const arm = (rows: Array<[number, number, boolean]>): ArmItem[] => rows.map(([llm, final, approved]) => ({ llm, final, approved, criteria: { c: { llm, final } } }));
// Version A: 10 reviewed items, 6 approved; |llm − final| = 0,0,2,0,2,0,2,0,2,0 → MAE 0.8.
const A = arm([[7, 7, true], [6, 6, true], [8, 6, false], [5, 5, true], [9, 7, false], [4, 4, true], [6, 8, false], [7, 7, true], [3, 5, false], [8, 8, true]]);
// Version B: 10 reviewed items, 9 approved; errors 0,0,0,0,1,0,0,0,0,0 → MAE 0.1.
const B = arm([[7, 7, true], [6, 6, true], [8, 8, true], [5, 5, true], [9, 8, false], [4, 4, true], [6, 6, true], [7, 7, true], [3, 3, true], [8, 8, true]]);

describe('A/B comparison statistics', () => {
  it('Wilson score intervals match the formula worked by hand', () => {
    // k=6, n=10: p=.6, z²=3.841459; centre = (.6 + z²/20)/(1 + z²/10) = .572237; half = z/(1+z²/10)·√(.024 + z²/400) = .259564.
    const a = wilson(6, 10)!;
    expect(a.estimate).toBe(0.6);
    expect(a.lo).toBeCloseTo(0.312674, 5);
    expect(a.hi).toBeCloseTo(0.83182, 5);
    // k=9, n=10: .595850 to .982124.
    const b = wilson(9, 10)!;
    expect(b.lo).toBeCloseTo(0.59585, 5);
    expect(b.hi).toBeCloseTo(0.982124, 5);
    expect(wilson(0, 0)).toBeNull();
  });

  it('the approval difference is Newcombe’s hybrid score interval built from the two Wilson intervals', () => {
    // d = .9 − .6 = .3; lo = .3 − √((.9−.595850)² + (.831820−.6)²) = −.082423; hi = .3 + √((.982124−.9)² + (.6−.312674)²) = .598832.
    const d = newcombeDifference(6, 10, 9, 10)!;
    expect(d.estimate).toBeCloseTo(0.3, 12);
    expect(d.lo).toBeCloseTo(-0.082423, 5);
    expect(d.hi).toBeCloseTo(0.598832, 5);
  });

  it('the MAE difference is a normal approximation with Welch’s standard error', () => {
    // Errors A: mean .8, sample variance 9.6/9; B: mean .1, variance .9/9. se = √(1.0667/10 + .1/10) = .341565.
    // d = .1 − .8 = −.7; 95 % CI −.7 ± 1.959964·.341565 = −1.369455 to −.030545.
    const d = unpairedMeanDifference([0, 0, 2, 0, 2, 0, 2, 0, 2, 0], [0, 0, 0, 0, 1, 0, 0, 0, 0, 0])!;
    expect(d.estimate).toBeCloseTo(-0.7, 12);
    expect(d.se).toBeCloseTo(0.341565, 5);
    expect(d.lo).toBeCloseTo(-1.369455, 5);
    expect(d.hi).toBeCloseTo(-0.030545, 5);
  });

  it('compares the arms: approval, MAE, kappa and the verdict "B agrees better"', () => {
    const c = compareArms(A, B, 10, [{ id: 'c', name: 'Criterion', maxPoints: 10 }]);
    expect(c.A).toMatchObject({ n: 10, approvals: 6, mae: 0.8 });
    expect(c.B.n).toBe(10);
    expect(c.B.mae).toBeCloseTo(0.1, 12);
    // Kappa on 0..10 (worked as in analytics.agreement.test.ts): A .668050, B .983278.
    expect(c.A.kappa).toBeCloseTo(0.66805, 5);
    expect(c.B.kappa).toBeCloseTo(0.983278, 5);
    expect(c.maeDifference!.hi).toBeCloseTo(-0.030545, 5);
    expect(c.verdict).toMatchObject({ kind: 'better', arm: 'B' });
    expect((c.verdict as { by: number }).by).toBeCloseTo(0.7, 12);
    // The one criterion carries the same points, so the same difference.
    expect(c.criteria[0]!.difference!.lo).toBeCloseTo(-1.369455, 5);
  });

  it('asks for ~N more reviewed items when the interval crosses 0: n·(z·se/|d|)² in all, less those there are', () => {
    // A's errors as above (MAE .8, variance 9.6/9); B's 0,0,2,0,0,0,2,0,2,0 (MAE .6, variance 8.4/9): d = −.2,
    // se = √(.106667 + .093333) = .447214; needed = 20·(1.959964·.447214/.2)² = 384.15 → 385, so 365 more.
    const B2 = arm([[7, 7, true], [6, 6, true], [8, 6, false], [5, 5, true], [9, 9, true], [4, 4, true], [6, 8, false], [7, 7, true], [3, 5, false], [8, 8, true]]);
    const c = compareArms(A, B2, 10, []);
    expect(c.verdict).toMatchObject({ kind: 'need_more', more: 365 });
    // Too few items per arm: at least 10 each first, whatever the interval says.
    expect(verdictOf(unpairedMeanDifference([2, 2, 2], [0, 0, 0]), 6, 3)).toMatchObject({ kind: 'need_more', more: 14 });
    expect(verdictOf(null, 0, 0)).toEqual({ kind: 'need_more', more: 20, ci: null });
  });

  it('calls a tiny, tight difference no difference', () => {
    const same = arm(Array.from({ length: 12 }, (_, i) => [5, 5 + (i % 2), i % 2 === 0] as [number, number, boolean]));
    expect(compareArms(same, same, 10, []).verdict.kind).toBe('no_difference');
  });

  it('a paired comparison uses the per-item differences of the same items', () => {
    // (a, b, final): differences |b−f| − |a−f| = 0,−2,−1,0,0,0,0,0,−1,−1,0,−1 → mean −.5, sd/√12 = .194625;
    // 95 % CI −.5 ± 1.959964·.194625 = −.881457 to −.118543.
    const items = [[7, 7, 7], [8, 6, 6], [9, 8, 7], [6, 6, 8], [3, 3, 5], [5, 5, 5], [4, 4, 4], [8, 8, 8], [7, 6, 6], [6, 7, 7], [9, 9, 9], [2, 3, 3]].map(([a, b, final]) => ({ a: a!, b: b!, final: final! }));
    const p = comparePaired(items, 10);
    expect(p.maeDifference!.estimate).toBeCloseTo(-0.5, 12);
    expect(p.maeDifference!.se).toBeCloseTo(0.194625, 5);
    expect(p.maeDifference!.lo).toBeCloseTo(-0.881457, 5);
    expect(p.maeDifference!.hi).toBeCloseTo(-0.118543, 5);
    expect(p.verdict).toMatchObject({ kind: 'better', arm: 'B' });
    expect(pairedMeanDifference([])).toBeNull();
  });

  it('the kappa difference is a bootstrap percentile interval with a fixed seed: the same every time, around the estimate', () => {
    const pa = A.map((i) => ({ llm: i.llm, final: i.final }));
    const pb = B.map((i) => ({ llm: i.llm, final: i.final }));
    const first = kappaDifference(pa, pb, 10, false)!;
    expect(kappaDifference(pa, pb, 10, false)).toEqual(first);
    expect(first.estimate).toBeCloseTo(0.983278 - 0.66805, 5);
    expect(first.lo).toBeLessThan(first.estimate);
    expect(first.hi).toBeGreaterThan(first.estimate);
    // Identical arms resampled as pairs: every resample's difference is 0.
    expect(kappaDifference(pa, pa, 10, true)).toEqual({ estimate: 0, lo: 0, hi: 0 });
    expect(BOOTSTRAP_RESAMPLES).toBe(1000);
    // Undefined kappa (no variation at all): no interval.
    expect(kappaDifference([{ llm: 4, final: 4 }], pb, 10, false)).toBeNull();
  });
});

describe('the A/B split', () => {
  it('is deterministic and honours the share over 1,000 submissions', () => {
    // B's count over n = 1,000 is Binomial(1000, .3): sd = √(1000·.3·.7) = 14.5. ±45 (3.1 sd) fails a correct split
    // about 1 time in 500 for a random id set; these ids are fixed, so the test is stable, and a split that ignored
    // the share (500) or inverted it (700) is far outside.
    const ids = Array.from({ length: 1000 }, (_, i) => 10_000 + i);
    const arms = ids.map((id) => armOf(7, id, 30));
    expect(ids.map((id) => armOf(7, id, 30))).toEqual(arms);
    const b = arms.filter((a) => a === 'B').length;
    expect(Math.abs(b - 300)).toBeLessThanOrEqual(45);
    // Another test splits the same submissions differently (the test id is in the hash).
    expect(ids.map((id) => armOf(8, id, 30))).not.toEqual(arms);
    // A larger share only moves submissions from A to B: a submission in B at 30 % stays in B at 60 %.
    expect(ids.every((id) => armOf(7, id, 30) === 'A' || armOf(7, id, 60) === 'B')).toBe(true);
    const b60 = ids.filter((id) => armOf(7, id, 60) === 'B').length;
    expect(Math.abs(b60 - 600)).toBeLessThanOrEqual(47);
  });
});
