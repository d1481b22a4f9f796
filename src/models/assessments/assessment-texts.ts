import { ContentDecryptionError, decryptText, encryptText, type AssessmentTextColumn, type KeyMaterial } from '../../crypto/content.js';

/**
 * The assessment texts stored encrypted (raw_output, override_feedback, override_reason; src/crypto/content.ts):
 * written through sealText, read through readableTexts or openText. A plaintext value (written before they were
 * encrypted, or retention's stub) reads as is. `result` (jsonb, read by SQL in many places) is not encrypted.
 */

/** Shown instead of a text no configured key can decrypt: the page still works, and says why the text is missing. */
export const UNREADABLE_TEXT = '(this text cannot be decrypted with the configured encryption keys)';

export function sealText(keys: KeyMaterial, queueItemId: number, column: AssessmentTextColumn, text: string | null | undefined): string | null {
  return encryptText(keys, text, { queueItemId, column });
}

export function openText(keys: KeyMaterial, queueItemId: number, column: AssessmentTextColumn, stored: string | null | undefined): string | null {
  try {
    return decryptText(keys, stored, { queueItemId, column });
  } catch (err) {
    if (err instanceof ContentDecryptionError) return UNREADABLE_TEXT;
    throw err;
  }
}

type WithTexts = { queueItemId: number; rawOutput: string | null; overrideFeedback: string | null; overrideReason: string | null };

/** The row with its encrypted texts as plaintext, for presenting. */
export function readableTexts<T extends WithTexts>(keys: KeyMaterial, row: T): T {
  return {
    ...row,
    rawOutput: openText(keys, row.queueItemId, 'raw_output', row.rawOutput),
    overrideFeedback: openText(keys, row.queueItemId, 'override_feedback', row.overrideFeedback),
    overrideReason: openText(keys, row.queueItemId, 'override_reason', row.overrideReason),
  };
}
