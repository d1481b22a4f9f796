/**
 * Whether the computed confidence means what it says: how often results of each confidence were approved as they
 * were, and the lowest review threshold that keeps changed results under a target share. Pure functions over
 * (confidence, outcome) pairs, shared by the Agreement page and its tests.
 */

export interface ConfidenceOutcome {
  /** The result's computed confidence (0–1); null (no usable answer) counts as 0, as the release rule reads it. */
  confidence: number | null;
  /** Approved as it was; false for an override or a rejection. */
  unchanged: boolean;
}

/** Bucket lower edges: below 50 % the model itself doubts (and the result is flagged), above it tenths. */
export const CONFIDENCE_EDGES = [0, 0.5, 0.6, 0.7, 0.8, 0.9] as const;

export interface ReliabilityRow {
  /** The bucket: from (inclusive) to (exclusive; 1 inclusive for the last). */
  from: number;
  to: number;
  n: number;
  unchanged: number;
  /** unchanged / n; null for an empty bucket. */
  share: number | null;
}

const level = (c: number | null) => (c == null || !Number.isFinite(c) ? 0 : Math.min(1, Math.max(0, c)));

export function reliabilityTable(outcomes: ConfidenceOutcome[]): ReliabilityRow[] {
  const rows: ReliabilityRow[] = CONFIDENCE_EDGES.map((from, i) => ({ from, to: CONFIDENCE_EDGES[i + 1] ?? 1, n: 0, unchanged: 0, share: null }));
  for (const o of outcomes) {
    const c = level(o.confidence);
    let i = rows.length - 1;
    while (i > 0 && c < rows[i]!.from) i -= 1;
    rows[i]!.n += 1;
    if (o.unchanged) rows[i]!.unchanged += 1;
  }
  for (const r of rows) r.share = r.n ? r.unchanged / r.n : null;
  return rows;
}

export interface ThresholdSide {
  n: number;
  changed: number;
}

export type ThresholdSuggestion =
  | {
      /** Review below this confidence (0–1, in steps of 0.05); 0 when every level meets the target. */
      threshold: number;
      /** Results at or above it (released without review under it) and how many of them were changed. */
      above: ThresholdSide;
      /** Results below it (sent to review). */
      below: ThresholdSide;
    }
  | { threshold: null; reason: 'too_few' | 'never_met'; decided: number };

/** Decisions at or above a threshold before a share of them means anything. */
export const MIN_DECISIONS_ABOVE = 10;

/**
 * The lowest threshold, in steps of 5 %, whose results at or above it were changed (overridden or rejected) at most
 * `maxChangedShare` of the time, with at least `minAbove` decisions there to count on. The lowest, because every
 * step up sends more work to review. It describes past decisions: it holds for new work only as far as the prompt
 * version and the kind of work stay the same.
 */
export function suggestThreshold(outcomes: ConfidenceOutcome[], maxChangedShare: number, minAbove = MIN_DECISIONS_ABOVE): ThresholdSuggestion {
  if (outcomes.length < minAbove) return { threshold: null, reason: 'too_few', decided: outcomes.length };
  const levels = outcomes.map((o) => ({ c: level(o.confidence), changed: !o.unchanged }));
  for (let step = 0; step <= 20; step++) {
    const t = step / 20;
    const above = levels.filter((l) => l.c >= t - 1e-9);
    if (above.length < minAbove) break;
    const changed = above.filter((l) => l.changed).length;
    if (changed / above.length <= maxChangedShare + 1e-12) {
      const below = levels.filter((l) => l.c < t - 1e-9);
      return { threshold: t, above: { n: above.length, changed }, below: { n: below.length, changed: below.filter((l) => l.changed).length } };
    }
  }
  return { threshold: null, reason: 'never_met', decided: outcomes.length };
}
