import type { Db, RootDb } from '../../db/db.js';

/**
 * A short-lived, per-process memo for the queue dashboard's aggregates (platform statistics, per-course chart,
 * filter totals). Each of them scans every matching row: with 100,000 queued items that is 30–70 ms apiece, which
 * an administrator paging through one filter, or a dashboard left open, would pay on every request. Figures are
 * at most `QUEUE_STATS_TTL_MS` old; concurrent misses share one query (single flight); a change made through
 * this process (`changeQueue`) clears its platform's entries once committed, so its own effect shows immediately.
 * The page and the API rows themselves are never cached: only counts and sums.
 */

export const QUEUE_STATS_TTL_MS = 5_000;
const MAX_ENTRIES = 1_000;

interface Entry {
  at: number;
  value: Promise<unknown>;
}

const entries = new Map<string, Entry>();

/** The cached value of `key` in the platform's namespace, or `compute()`'s (shared by concurrent callers). */
export function memoStats<T>(platformId: number, key: string, compute: () => Promise<T>, ttlMs = QUEUE_STATS_TTL_MS): Promise<T> {
  const full = `${platformId}:${key}`;
  const now = Date.now();
  const hit = entries.get(full);
  if (hit && now - hit.at < ttlMs) return hit.value as Promise<T>;
  const value = compute();
  entries.set(full, { at: now, value });
  // A failed query is not remembered: the next request tries again.
  value.catch(() => {
    if (entries.get(full)?.value === value) entries.delete(full);
  });
  if (entries.size > MAX_ENTRIES) {
    // Oldest first (Map keeps insertion order): drop the first tenth.
    let drop = Math.ceil(MAX_ENTRIES / 10);
    for (const k of entries.keys()) {
      if (drop-- <= 0) break;
      entries.delete(k);
    }
  }
  return value;
}

/**
 * Changes a platform's queue items or batches (a submission, an administrator's action, a batch made, confirmed or
 * cancelled) in one transaction and, once it has committed, clears the platform's cached figures: the answer that
 * follows, this request's or the next one's, shows the change. This is the one place the cache is cleared. Not
 * before the commit: a request reading in between would cache the figures from before the change for another
 * `QUEUE_STATS_TTL_MS`, and they would be what the administrator sees next.
 */
export async function changeQueue<T>(db: RootDb, platformId: number, change: (tx: Db) => Promise<T>): Promise<T> {
  const result = await db.transaction(change);
  invalidateStats(platformId);
  return result;
}

/** Recompute on next read. */
function invalidateStats(platformId: number): void {
  const prefix = `${platformId}:`;
  for (const k of [...entries.keys()]) if (k.startsWith(prefix)) entries.delete(k);
}
