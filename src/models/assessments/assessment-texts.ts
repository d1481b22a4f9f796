import { ContentDecryptionError, decryptText, encryptText, type AssessmentTextBinding, type AssessmentTextColumn, type KeyMaterial } from '../../crypto/content.js';

/**
 * The assessment texts stored encrypted (raw_output, override_feedback, override_reason; src/crypto/content.ts):
 * written through sealText, read through readableTexts or openText. A plaintext value (written before they were
 * encrypted, or retention's stub) reads as is. `result` (jsonb, read by SQL in many places) is not encrypted.
 */

/** Shown instead of a text no configured key can decrypt: the page still works, and says why the text is missing. */
export const UNREADABLE_TEXT = '(this text cannot be decrypted with the configured encryption keys)';

/** What an assessment's texts are bound to: its queue item, or for a manual assessment its submission. */
export interface TextOwner {
  queueItemId: number | null;
  submissionId: number;
}

export function bindingOf(owner: TextOwner, column: AssessmentTextColumn): AssessmentTextBinding {
  return owner.queueItemId == null ? { queueItemId: null, submissionId: owner.submissionId, column } : { queueItemId: owner.queueItemId, column };
}

export function sealText(keys: KeyMaterial, owner: TextOwner, column: AssessmentTextColumn, text: string | null | undefined): string | null {
  return encryptText(keys, text, bindingOf(owner, column));
}

export function openText(keys: KeyMaterial, owner: TextOwner, column: AssessmentTextColumn, stored: string | null | undefined): string | null {
  try {
    return decryptText(keys, stored, bindingOf(owner, column));
  } catch (err) {
    if (err instanceof ContentDecryptionError) return UNREADABLE_TEXT;
    throw err;
  }
}

type WithTexts = TextOwner & { rawOutput: string | null; overrideFeedback: string | null; overrideReason: string | null };

/** The owner of a row read by SQL (snake case, ids as strings). */
export function textOwnerOf(row: { queue_item_id: string | number | null; submission_id: string | number }): TextOwner {
  return { queueItemId: row.queue_item_id == null ? null : Number(row.queue_item_id), submissionId: Number(row.submission_id) };
}

/** The row with its encrypted texts as plaintext, for presenting. */
export function readableTexts<T extends WithTexts>(keys: KeyMaterial, row: T): T {
  return {
    ...row,
    rawOutput: openText(keys, row, 'raw_output', row.rawOutput),
    overrideFeedback: openText(keys, row, 'override_feedback', row.overrideFeedback),
    overrideReason: openText(keys, row, 'override_reason', row.overrideReason),
  };
}
