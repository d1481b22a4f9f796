import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes } from 'node:crypto';

/**
 * Submission content at rest: AES-256-GCM with a fresh 96-bit IV per message, stored as
 * `version (1 byte) | iv (12) | tag (16) | ciphertext`. The additional authenticated data binds a ciphertext to
 * its row (task, student, attempt), so a ciphertext copied into another student's row fails to decrypt instead of
 * showing one student's work as another's.
 *
 * Two keys are derived from ENCRYPTION_KEY with HKDF, one for encryption and one for the content HMAC, so the
 * same key never serves two purposes.
 */

const VERSION = 1;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const HEADER_BYTES = 1 + IV_BYTES + TAG_BYTES;

export interface ContentKeys {
  encryption: Buffer;
  hmac: Buffer;
}

const derived = new WeakMap<Buffer, ContentKeys>();

/** The keys for a master key (config.encryptionKey, 32 bytes), derived once per key. */
export function contentKeys(masterKey: Buffer): ContentKeys {
  let keys = derived.get(masterKey);
  if (!keys) {
    if (masterKey.length !== 32) throw new RangeError('the encryption key must be 32 bytes');
    keys = {
      encryption: Buffer.from(hkdfSync('sha256', masterKey, Buffer.alloc(0), 'llm-assess submission content v1', 32)),
      hmac: Buffer.from(hkdfSync('sha256', masterKey, Buffer.alloc(0), 'llm-assess submission hmac v1', 32)),
    };
    derived.set(masterKey, keys);
  }
  return keys;
}

/** What a ciphertext is bound to: the row it belongs to. */
export interface ContentBinding {
  taskId: number;
  studentId: number;
  attempt: number;
}

function aad(b: ContentBinding): Buffer {
  return Buffer.from(`submission:${b.taskId}:${b.studentId}:${b.attempt}`);
}

export function encryptContent(masterKey: Buffer, plaintext: string, binding: ContentBinding): Buffer {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', contentKeys(masterKey).encryption, iv);
  cipher.setAAD(aad(binding));
  const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return Buffer.concat([Buffer.from([VERSION]), iv, cipher.getAuthTag(), ciphertext]);
}

export class ContentDecryptionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ContentDecryptionError';
  }
}

/** The text of a stored submission; throws ContentDecryptionError for a wrong key, a tampered or misplaced value. */
export function decryptContent(masterKey: Buffer, stored: Buffer, binding: ContentBinding): string {
  if (stored.length < HEADER_BYTES || stored[0] !== VERSION) throw new ContentDecryptionError('unknown submission content format');
  const iv = stored.subarray(1, 1 + IV_BYTES);
  const tag = stored.subarray(1 + IV_BYTES, HEADER_BYTES);
  const decipher = createDecipheriv('aes-256-gcm', contentKeys(masterKey).encryption, iv);
  decipher.setAAD(aad(binding));
  decipher.setAuthTag(tag);
  try {
    return Buffer.concat([decipher.update(stored.subarray(HEADER_BYTES)), decipher.final()]).toString('utf8');
  } catch {
    throw new ContentDecryptionError('the submission content could not be decrypted (wrong key, or the value was changed)');
  }
}

/**
 * Keyed hash of the normalized text (line endings, surrounding and repeated whitespace): finds identical
 * resubmissions without decrypting anything, and without letting anyone who reads the database test guesses.
 */
export function contentHmac(masterKey: Buffer, text: string): string {
  const normalized = text.replace(/\r\n?/g, '\n').replace(/[ \t]+/g, ' ').replace(/\n{3,}/g, '\n\n').trim();
  return createHmac('sha256', contentKeys(masterKey).hmac).update(normalized, 'utf8').digest('base64url');
}
