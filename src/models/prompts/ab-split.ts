import { createHash } from 'node:crypto';
import type { AbArm } from './ab-tests.table.js';

/**
 * Which arm of an A/B test grades a submission: the first 32 bits of sha256("ab:<test>:<submission>") as a number
 * in [0, 1), below the share of B → B. Deterministic (the same submission always lands in the same arm, on any
 * worker, after a restart), independent of arrival order and of the student, and uniform, so over n submissions
 * B's count is Binomial(n, share).
 */
export function armOf(testId: number, submissionId: number, shareBPercent: number): AbArm {
  const digest = createHash('sha256').update(`ab:${testId}:${submissionId}`).digest();
  return digest.readUInt32BE(0) / 2 ** 32 < shareBPercent / 100 ? 'B' : 'A';
}
