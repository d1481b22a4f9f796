import { bindingOf } from '../assessments/assessment-texts.js';
import type { RootDb } from '../../db/db.js';
import { ContentDecryptionError, contentHeader, decryptContent, decryptText, encryptContent, encryptText, textPrefix, type AssessmentTextColumn, type Keyring } from '../../crypto/content.js';
import {
  countAssessmentTextsByKey,
  countSubmissionsByKey,
  lockAssessmentTextsNotUnder,
  lockSubmissionsNotUnder,
  replaceAssessmentTexts,
  replaceSubmissionContents,
  type KeyCount,
  type StoredAssessmentTexts,
} from './content-keys.repository.js';
import { REMOVED_TEXT } from '../privacy/retention.repository.js';

export interface KeyStatus {
  currentId: string;
  submissions: KeyCount[];
  assessmentTexts: KeyCount[];
}

/** How many stored texts each key id encrypted (and how many assessment texts are still plaintext). */
export async function keyStatus(db: RootDb, keys: Keyring): Promise<KeyStatus> {
  return { currentId: keys.currentId, submissions: await countSubmissionsByKey(db), assessmentTexts: await countAssessmentTextsByKey(db) };
}

export interface RotationProgress {
  table: 'submissions' | 'assessments';
  /** Rows written under the current key so far, in this table. */
  rotated: number;
  /** Rows that could not be decrypted (unknown key, changed value): left as they are, and counted. */
  unreadable: number;
}

export interface RotationRun {
  submissions: RotationProgress;
  assessments: RotationProgress;
  /** Whether maxBatches stopped the run before it was done. */
  stopped: boolean;
}

export interface RotationOptions {
  /** Rows per transaction (default 200): short transactions, so the tool's own writes hardly wait. */
  batchSize?: number;
  /** Stop after this many transactions (tests; an operator spreading the work): a later run goes on from there. */
  maxBatches?: number;
  onProgress?: (progress: RotationProgress) => void;
}

/**
 * Re-encrypts every stored text that is not under the current key (keys.currentId), submissions first, then the
 * assessment texts (which are also encrypted here if they are still plaintext), while the tool runs.
 *
 * Each batch is its own transaction: rows locked `for update skip locked` (a row the tool is writing is left for the
 * next pass rather than waited for), decrypted with whatever key the ring has for them, encrypted under the current
 * key, and written only where the row still holds what was read. Nothing records progress: the rows themselves say
 * which key they are under, so a stopped run is resumed by running again. Passes repeat while they still move
 * rows (skipped rows, or rows an old process wrote with the old key meanwhile); a row that cannot be decrypted is
 * counted and left, never overwritten.
 */
export async function rotateKeys(db: RootDb, keys: Keyring, options: RotationOptions = {}): Promise<RotationRun> {
  const batchSize = options.batchSize ?? 200;
  const budget = { left: options.maxBatches ?? Number.POSITIVE_INFINITY };
  const submissions = await passes(budget, 'submissions', options.onProgress, (afterId) => rotateSubmissionBatch(db, keys, afterId, batchSize));
  const assessments = await passes(budget, 'assessments', options.onProgress, (afterId) => rotateAssessmentBatch(db, keys, afterId, batchSize));
  return { submissions, assessments, stopped: budget.left <= 0 && !(submissions.done && assessments.done) };
}

interface BatchOutcome {
  /** The last id looked at (the next batch starts after it), or null when no row was left. */
  lastId: number | null;
  rotated: number;
  unreadable: number;
}

async function passes(
  budget: { left: number },
  table: RotationProgress['table'],
  onProgress: RotationOptions['onProgress'],
  batch: (afterId: number) => Promise<BatchOutcome>,
): Promise<RotationProgress & { done: boolean }> {
  const progress = { table, rotated: 0, unreadable: 0, done: false };
  for (;;) {
    let afterId = 0;
    let moved = 0;
    // Unreadable rows are met again by every pass: the count is the last pass's.
    progress.unreadable = 0;
    for (;;) {
      if (budget.left <= 0) return progress;
      budget.left -= 1;
      const outcome = await batch(afterId);
      if (outcome.lastId === null) break;
      afterId = outcome.lastId;
      moved += outcome.rotated;
      progress.rotated += outcome.rotated;
      progress.unreadable += outcome.unreadable;
      onProgress?.({ table, rotated: progress.rotated, unreadable: progress.unreadable });
    }
    // Another pass finds only what this one left: rows that were locked or changed meanwhile (worth another look
    // while passes still move something) and unreadable ones (not).
    if (moved === 0) {
      progress.done = true;
      return progress;
    }
  }
}

async function rotateSubmissionBatch(db: RootDb, keys: Keyring, afterId: number, limit: number): Promise<BatchOutcome> {
  return db.transaction(async (tx) => {
    const rows = await lockSubmissionsNotUnder(tx, contentHeader(keys.currentId), afterId, limit);
    if (!rows.length) return { lastId: null, rotated: 0, unreadable: 0 };
    const writes: Array<{ id: number; old: Buffer; content: Buffer }> = [];
    let unreadable = 0;
    for (const r of rows) {
      const binding = { taskId: r.taskId, studentId: r.studentId, attempt: r.attempt };
      try {
        writes.push({ id: r.id, old: r.content, content: encryptContent(keys, decryptContent(keys, r.content, binding), binding) });
      } catch (err) {
        if (!(err instanceof ContentDecryptionError)) throw err;
        unreadable += 1;
      }
    }
    return { lastId: rows.at(-1)!.id, rotated: await replaceSubmissionContents(tx, writes), unreadable };
  });
}

const TEXT_COLUMNS: Array<[AssessmentTextColumn, 'rawOutput' | 'overrideFeedback' | 'overrideReason']> = [
  ['raw_output', 'rawOutput'],
  ['override_feedback', 'overrideFeedback'],
  ['override_reason', 'overrideReason'],
];

async function rotateAssessmentBatch(db: RootDb, keys: Keyring, afterId: number, limit: number): Promise<BatchOutcome> {
  const prefix = textPrefix(keys.currentId);
  return db.transaction(async (tx) => {
    const rows = await lockAssessmentTextsNotUnder(tx, prefix, afterId, limit);
    if (!rows.length) return { lastId: null, rotated: 0, unreadable: 0 };
    const writes: Array<{ old: StoredAssessmentTexts; next: StoredAssessmentTexts }> = [];
    let unreadable = 0;
    for (const old of rows) {
      try {
        const next = { ...old };
        for (const [column, field] of TEXT_COLUMNS) {
          const stored = old[field];
          // Under the current key already, or retention's stub (plaintext that is no one's data): left as is.
          if (stored == null || stored.startsWith(prefix) || stored === REMOVED_TEXT) continue;
          const binding = bindingOf(old, column);
          next[field] = encryptText(keys, decryptText(keys, stored, binding), binding);
        }
        writes.push({ old, next });
      } catch (err) {
        if (!(err instanceof ContentDecryptionError)) throw err;
        unreadable += 1;
      }
    }
    return { lastId: rows.at(-1)!.id, rotated: await replaceAssessmentTexts(tx, writes), unreadable };
  });
}
