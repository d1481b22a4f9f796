/**
 * custom_id = queue item id + the number of its request (every request made for the item, sent or not: a request
 * of a batch cancelled before sending is not an attempt, but its id stays taken). Unique across all batches ever
 * made, so a result line maps to exactly one request and ingesting the same line twice is harmless. The shape also fits
 * Anthropic's rule for custom ids (^[a-zA-Z0-9_-]{1,64}$).
 */

const PATTERN = /^qi-(\d{1,16})-a(\d{1,6})$/;

export interface ParsedCustomId {
  queueItemId: number;
  attempt: number;
}

export function customIdFor(queueItemId: number, attempt: number): string {
  if (!Number.isSafeInteger(queueItemId) || queueItemId < 1) {
    throw new RangeError(`queueItemId must be a positive whole number (got ${queueItemId})`);
  }
  if (!Number.isSafeInteger(attempt) || attempt < 1 || attempt > 999_999) {
    throw new RangeError(`attempt must be a whole number from 1 to 999999 (got ${attempt})`);
  }
  return `qi-${queueItemId}-a${attempt}`;
}

/**
 * The custom id of the item's `n`th real-time request (`qi-<item>-r<n>`): apart from its batch requests' ids, which
 * count only batch requests, so a real-time grading and a later batch of the same item never share a ledger key or
 * an assessment's id. A batch result line never carries one (parseCustomId refuses it).
 */
export function realtimeCustomIdFor(queueItemId: number, n: number): string {
  return `qi-${queueItemId}-r${n}`;
}

/** The queue item and attempt of a custom id we made, or null for anything else (never trust a result line). */
export function parseCustomId(customId: string): ParsedCustomId | null {
  const m = PATTERN.exec(customId);
  if (!m?.[1] || !m[2]) return null;
  const queueItemId = Number(m[1]);
  const attempt = Number(m[2]);
  if (!Number.isSafeInteger(queueItemId) || queueItemId < 1 || attempt < 1) return null;
  return { queueItemId, attempt };
}
