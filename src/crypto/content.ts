import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes } from 'node:crypto';

/**
 * Content at rest: AES-256-GCM with a fresh 96-bit IV per message. The additional authenticated data binds a
 * ciphertext to its row, so a ciphertext copied into another row fails to decrypt instead of showing one student's
 * work (or one assessment's text) as another's.
 *
 * Keys come from a keyring (ENCRYPTION_KEYS, and ENCRYPTION_KEY as the key `k1`): the first key encrypts, any key
 * of the ring decrypts, chosen by the key id every ciphertext carries, so a new key can be introduced and the old
 * data re-encrypted (`npm run keys -- rotate`) while the tool runs.
 *
 * Submission content (bytea):
 *   version 2: `2 | id length (1) | key id (ASCII) | iv (12) | tag (16) | ciphertext`
 *   version 1: `1 | iv (12) | tag (16) | ciphertext` — written before key ids existed: always the legacy key `k1`.
 * Assessment texts (text columns): `enc:<key id>:<base64 of iv | tag | ciphertext>`; a value without the prefix is
 * plaintext (written before these columns were encrypted, or retention's fixed stub) and is read as is.
 *
 * From each master key HKDF derives the encryption key, so the master key never serves two purposes; the content
 * HMAC has its own key that does not rotate (see Keyring.hmacKey).
 */

const LEGACY_VERSION = 1;
const VERSION = 2;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const LEGACY_HEADER_BYTES = 1 + IV_BYTES + TAG_BYTES;
const TEXT_PREFIX = 'enc:';

/** The id ENCRYPTION_KEY has in the keyring, and the key of every version-1 ciphertext. */
export const LEGACY_KEY_ID = 'k1';
/** Key ids: short, and free of ':' and ',' (they appear in `enc:<id>:` and in ENCRYPTION_KEYS). */
export const KEY_ID_PATTERN = /^[A-Za-z0-9_-]{1,32}$/;

export interface Keyring {
  /** The id of the key new ciphertexts are written with. */
  readonly currentId: string;
  /** Every key that may decrypt, by id (32-byte master keys). */
  readonly keys: ReadonlyMap<string, Buffer>;
  /**
   * The key of contentHmac. It must not change when the encryption key rotates: the hashes of stored submissions
   * are compared with those of new ones (identical resubmissions), and recomputing them all would need every text
   * decrypted. So it is derived from the legacy key `k1` as it always was, or given outright (CONTENT_HMAC_KEY)
   * once `k1` is retired.
   */
  readonly hmacKey: Buffer;
}

/** What the functions below take: a keyring, or one master key (the legacy key `k1` alone, as before keyrings). */
export type KeyMaterial = Keyring | Buffer;

function checkMasterKey(id: string, key: Buffer): void {
  if (!KEY_ID_PATTERN.test(id)) throw new RangeError(`the key id "${id}" must be 1 to 32 letters, digits, '-' or '_'`);
  if (key.length !== 32) throw new RangeError(`the encryption key ${id} must be 32 bytes`);
}

/** The content HMAC key derived from a master key, as it was before keyrings (so existing hashes still match). */
export function hmacKeyOf(masterKey: Buffer): Buffer {
  return Buffer.from(hkdfSync('sha256', masterKey, Buffer.alloc(0), 'llm-assess submission hmac v1', 32));
}

/** A keyring of these keys, the first the current one; throws RangeError for a bad id, length or a duplicate. */
export function createKeyring(entries: ReadonlyArray<readonly [string, Buffer]>, options: { hmacKey?: Buffer } = {}): Keyring {
  if (!entries.length) throw new RangeError('a keyring needs at least one key');
  const keys = new Map<string, Buffer>();
  for (const [id, key] of entries) {
    checkMasterKey(id, key);
    if (keys.has(id)) throw new RangeError(`the key id "${id}" appears twice`);
    keys.set(id, key);
  }
  const legacy = keys.get(LEGACY_KEY_ID);
  const hmacKey = options.hmacKey ?? (legacy ? hmacKeyOf(legacy) : undefined);
  if (!hmacKey) throw new RangeError(`without the key ${LEGACY_KEY_ID}, the content HMAC key must be given (CONTENT_HMAC_KEY)`);
  if (hmacKey.length !== 32) throw new RangeError('the content HMAC key must be 32 bytes');
  return { currentId: entries[0]![0], keys, hmacKey };
}

const singleKeyRings = new WeakMap<Buffer, Keyring>();

function ringOf(material: KeyMaterial): Keyring {
  if (!Buffer.isBuffer(material)) return material;
  let ring = singleKeyRings.get(material);
  if (!ring) {
    if (material.length !== 32) throw new RangeError('the encryption key must be 32 bytes');
    ring = createKeyring([[LEGACY_KEY_ID, material]]);
    singleKeyRings.set(material, ring);
  }
  return ring;
}

const derived = new WeakMap<Buffer, Buffer>();

/** The AES key of a master key, derived once per key. */
function encryptionKeyOf(masterKey: Buffer): Buffer {
  let key = derived.get(masterKey);
  if (!key) {
    key = Buffer.from(hkdfSync('sha256', masterKey, Buffer.alloc(0), 'llm-assess submission content v1', 32));
    derived.set(masterKey, key);
  }
  return key;
}

function keyFor(ring: Keyring, id: string): Buffer {
  const key = ring.keys.get(id);
  if (!key) throw new ContentDecryptionError(`the content was encrypted with the key "${id}", which is not configured (ENCRYPTION_KEYS)`);
  return encryptionKeyOf(key);
}

export class ContentDecryptionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ContentDecryptionError';
  }
}

/** iv | tag | ciphertext of the text under this key. */
function seal(key: Buffer, plaintext: string, aad: Buffer): Buffer {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(aad);
  const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), ciphertext]);
}

function open(key: Buffer, sealed: Buffer, aad: Buffer, what: string): string {
  if (sealed.length < IV_BYTES + TAG_BYTES) throw new ContentDecryptionError(`unknown ${what} format`);
  const decipher = createDecipheriv('aes-256-gcm', key, sealed.subarray(0, IV_BYTES));
  decipher.setAAD(aad);
  decipher.setAuthTag(sealed.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
  try {
    return Buffer.concat([decipher.update(sealed.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString('utf8');
  } catch {
    throw new ContentDecryptionError(`the ${what} could not be decrypted (wrong key, or the value was changed)`);
  }
}

/** What a submission's ciphertext is bound to: the row it belongs to. */
export interface ContentBinding {
  taskId: number;
  studentId: number;
  attempt: number;
}

function aad(b: ContentBinding): Buffer {
  return Buffer.from(`submission:${b.taskId}:${b.studentId}:${b.attempt}`);
}

/** The header that starts every version-2 ciphertext under this key id (the rotation's "already done" test). */
export function contentHeader(keyId: string): Buffer {
  return Buffer.concat([Buffer.from([VERSION, Buffer.byteLength(keyId)]), Buffer.from(keyId, 'ascii')]);
}

export function encryptContent(keys: KeyMaterial, plaintext: string, binding: ContentBinding): Buffer {
  const ring = ringOf(keys);
  return Buffer.concat([contentHeader(ring.currentId), seal(keyFor(ring, ring.currentId), plaintext, aad(binding))]);
}

/** The key id a stored submission was encrypted with; throws ContentDecryptionError for an unknown format. */
export function contentKeyId(stored: Buffer): string {
  return parseContent(stored).keyId;
}

function parseContent(stored: Buffer): { keyId: string; sealed: Buffer } {
  if (stored.length >= LEGACY_HEADER_BYTES && stored[0] === LEGACY_VERSION) return { keyId: LEGACY_KEY_ID, sealed: stored.subarray(1) };
  if (stored.length >= 2 && stored[0] === VERSION) {
    const end = 2 + stored[1]!;
    const keyId = stored.subarray(2, end).toString('ascii');
    if (KEY_ID_PATTERN.test(keyId) && stored.length >= end + IV_BYTES + TAG_BYTES) return { keyId, sealed: stored.subarray(end) };
  }
  throw new ContentDecryptionError('unknown submission content format');
}

/** The text of a stored submission; throws ContentDecryptionError for an unknown or missing key, a tampered or misplaced value. */
export function decryptContent(keys: KeyMaterial, stored: Buffer, binding: ContentBinding): string {
  const { keyId, sealed } = parseContent(stored);
  return open(keyFor(ringOf(keys), keyId), sealed, aad(binding), 'submission content');
}

/**
 * Keyed hash of the normalized text (line endings, surrounding and repeated whitespace): finds identical
 * resubmissions without decrypting anything, and without letting anyone who reads the database test guesses.
 */
export function contentHmac(keys: KeyMaterial, text: string): string {
  const normalized = text.replace(/\r\n?/g, '\n').replace(/[ \t]+/g, ' ').replace(/\n{3,}/g, '\n\n').trim();
  return createHmac('sha256', ringOf(keys).hmacKey).update(normalized, 'utf8').digest('base64url');
}

/** The assessment texts stored encrypted: the model's unparsed output and the reviewer's override texts. */
export type AssessmentTextColumn = 'raw_output' | 'override_feedback' | 'override_reason';

/**
 * What an assessment text is bound to: its queue item (one assessment per item, unique) rather than the
 * assessment id, because ingestion writes raw_output in the same statement that assigns the id. A manual
 * assessment has no queue item: its texts are bound to its submission (one manual assessment per submission).
 */
export type AssessmentTextBinding =
  | { queueItemId: number; column: AssessmentTextColumn }
  | { queueItemId: null; submissionId: number; column: AssessmentTextColumn };

function textAad(b: AssessmentTextBinding): Buffer {
  return Buffer.from(b.queueItemId === null ? `assessment:manual:${b.submissionId}:${b.column}` : `assessment:${b.queueItemId}:${b.column}`);
}

/** The prefix of every text encrypted under this key id (the rotation's "already done" test). */
export function textPrefix(keyId: string): string {
  return `${TEXT_PREFIX}${keyId}:`;
}

export function encryptText(keys: KeyMaterial, plaintext: string, binding: AssessmentTextBinding): string;
export function encryptText(keys: KeyMaterial, plaintext: string | null | undefined, binding: AssessmentTextBinding): string | null;
export function encryptText(keys: KeyMaterial, plaintext: string | null | undefined, binding: AssessmentTextBinding): string | null {
  if (plaintext == null) return null;
  const ring = ringOf(keys);
  return textPrefix(ring.currentId) + seal(keyFor(ring, ring.currentId), plaintext, textAad(binding)).toString('base64');
}

/** Whether a stored text is encrypted (else it is plaintext, shown as is). */
export function isEncryptedText(stored: string): boolean {
  return stored.startsWith(TEXT_PREFIX);
}

/**
 * The plaintext of a stored assessment text: an `enc:` value decrypted, anything else as is (older plaintext rows,
 * retention's stub). Throws ContentDecryptionError for an unknown key or a changed or misplaced value.
 */
export function decryptText(keys: KeyMaterial, stored: string, binding: AssessmentTextBinding): string;
export function decryptText(keys: KeyMaterial, stored: string | null | undefined, binding: AssessmentTextBinding): string | null;
export function decryptText(keys: KeyMaterial, stored: string | null | undefined, binding: AssessmentTextBinding): string | null {
  if (stored == null) return null;
  if (!isEncryptedText(stored)) return stored;
  const cut = stored.indexOf(':', TEXT_PREFIX.length);
  const keyId = stored.slice(TEXT_PREFIX.length, cut);
  if (cut < 0 || !KEY_ID_PATTERN.test(keyId)) throw new ContentDecryptionError('unknown assessment text format');
  return open(keyFor(ringOf(keys), keyId), Buffer.from(stored.slice(cut + 1), 'base64'), textAad(binding), 'assessment text');
}
