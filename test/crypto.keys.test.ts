import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createCipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { sql } from 'drizzle-orm';
import {
  contentHmac,
  contentKeyId,
  ContentDecryptionError,
  createKeyring,
  decryptContent,
  decryptText,
  encryptContent,
  encryptText,
  type Keyring,
} from '../src/crypto/content.js';
import { insertSubmission } from '../src/models/submissions/submissions.repository.js';
import { keyStatus, rotateKeys } from '../src/models/submissions/key-rotation.service.js';
import { REMOVED_TEXT } from '../src/models/privacy/retention.repository.js';
import { createAssessment, homeIds, idOf, SUBS } from './helpers/assessments.js';
import type { ToolSession } from './helpers/lti-browser.js';
import { startStack, type Stack } from './helpers/stack.js';
import { textOf } from './helpers/html.js';

const oldKey = randomBytes(32);
const newKey = randomBytes(32);
const row = { taskId: 7, studentId: 42, attempt: 1 };

/** A version-1 ciphertext, as written before key ids existed (no key id: the legacy key k1). */
function legacyCiphertext(masterKey: Buffer, text: string, b: typeof row): Buffer {
  const key = Buffer.from(hkdfSync('sha256', masterKey, Buffer.alloc(0), 'llm-assess submission content v1', 32));
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(`submission:${b.taskId}:${b.studentId}:${b.attempt}`));
  const ct = Buffer.concat([cipher.update(text, 'utf8'), cipher.final()]);
  return Buffer.concat([Buffer.from([1]), iv, cipher.getAuthTag(), ct]);
}

describe('content keys', () => {
  const before = createKeyring([['k1', oldKey]]);
  const rotated = createKeyring([['k2', newKey], ['k1', oldKey]]);

  it('writes the current key id into every new ciphertext', () => {
    const stored = encryptContent(rotated, 'my essay', row);
    expect(stored[0]).toBe(2);
    expect(stored.subarray(2, 2 + stored[1]!).toString('ascii')).toBe('k2');
    expect(contentKeyId(stored)).toBe('k2');
    expect(contentKeyId(encryptContent(before, 'my essay', row))).toBe('k1');
    expect(encryptText(rotated, 'raw answer', { queueItemId: 5, column: 'raw_output' })).toMatch(/^enc:k2:[A-Za-z0-9+/=]+$/);
  });

  it('decrypts with the key the ciphertext names, old and new, from one keyring', () => {
    const old = encryptContent(before, 'written under k1', row);
    const current = encryptContent(rotated, 'written under k2', row);
    expect(decryptContent(rotated, old, row)).toBe('written under k1');
    expect(decryptContent(rotated, current, row)).toBe('written under k2');
    // The old ring does not have k2: a clear error, not garbage.
    expect(() => decryptContent(before, current, row)).toThrow(ContentDecryptionError);
    expect(() => decryptContent(before, current, row)).toThrow(/encrypted with the key "k2", which is not configured/);
  });

  it('refuses a ciphertext whose key id is not in the ring, and a changed key id', () => {
    const stored = encryptContent(createKeyring([['k9', randomBytes(32)], ['k1', oldKey]]), 'x', row);
    expect(() => decryptContent(rotated, stored, row)).toThrow(/key "k9", which is not configured/);
    const relabelled = Buffer.from(encryptContent(rotated, 'x', row));
    relabelled[3] = '1'.charCodeAt(0); // k2 → k1: the other key cannot open it
    expect(() => decryptContent(rotated, relabelled, row)).toThrow(/could not be decrypted/);
    const text = encryptText(createKeyring([['k9', randomBytes(32)], ['k1', oldKey]]), 'x', { queueItemId: 1, column: 'override_reason' });
    expect(() => decryptText(rotated, text, { queueItemId: 1, column: 'override_reason' })).toThrow(/key "k9", which is not configured/);
  });

  it('still reads the version without key ids, with the legacy key (ENCRYPTION_KEY as k1)', () => {
    const legacy = legacyCiphertext(oldKey, 'from before key ids', row);
    expect(contentKeyId(legacy)).toBe('k1');
    expect(decryptContent(rotated, legacy, row)).toBe('from before key ids');
    expect(decryptContent(oldKey, legacy, row)).toBe('from before key ids');
    expect(() => decryptContent(createKeyring([['k2', newKey]], { hmacKey: randomBytes(32) }), legacy, row)).toThrow(/key "k1", which is not configured/);
  });

  it('binds assessment texts to their row and column; reads plaintext (older rows, the retention stub) as is', () => {
    const b = { queueItemId: 11, column: 'override_feedback' as const };
    const stored = encryptText(rotated, 'See me in office hours', b);
    expect(stored).not.toContain('office');
    expect(decryptText(rotated, stored, b)).toBe('See me in office hours');
    expect(() => decryptText(rotated, stored, { ...b, queueItemId: 12 })).toThrow(ContentDecryptionError);
    expect(() => decryptText(rotated, stored, { ...b, column: 'override_reason' })).toThrow(ContentDecryptionError);
    expect(decryptText(rotated, 'plain older text', b)).toBe('plain older text');
    expect(decryptText(rotated, REMOVED_TEXT, b)).toBe(REMOVED_TEXT);
    expect(decryptText(rotated, null, b)).toBeNull();
  });

  it('keeps the content HMAC across the rotation: derived from k1, or given once k1 is gone', () => {
    const hmac = contentHmac(oldKey, 'the same essay');
    expect(contentHmac(before, 'the same essay')).toBe(hmac);
    expect(contentHmac(rotated, 'the same essay')).toBe(hmac);
    expect(contentHmac(createKeyring([['k2', newKey]], { hmacKey: rotated.hmacKey }), 'the same essay')).toBe(hmac);
    expect(() => createKeyring([['k2', newKey]])).toThrow(/CONTENT_HMAC_KEY/);
    expect(() => createKeyring([['k2', newKey], ['k2', oldKey]])).toThrow(/appears twice/);
    expect(() => createKeyring([['k:2', newKey]])).toThrow(/key id/);
    expect(() => createKeyring([['k2', randomBytes(16)]])).toThrow(/32 bytes/);
  });
});

describe('key rotation (database)', () => {
  let stack: Stack;
  let ids: Awaited<ReturnType<typeof homeIds>>;
  let instructor: ToolSession;
  const db = () => stack.db.db;
  let k1Ring: Keyring;
  let rotated: Keyring;
  /** Only the new key: what the tool has once the old key is removed. */
  let k2Only: Keyring;

  beforeAll(async () => {
    stack = await startStack({ env: { ENCRYPTION_KEY: oldKey.toString('base64') } });
    instructor = await stack.browser().launch(stack.devlmsUrl, 'instructor', { task: '1' });
    for (const s of ['student1', 'student2', 'student3']) await stack.browser().launch(stack.devlmsUrl, s, { task: '1' });
    ids = await homeIds(stack);
    k1Ring = stack.config.encryptionKey;
    rotated = createKeyring([['k2', newKey], ['k1', oldKey]]);
    k2Only = createKeyring([['k2', newKey]], { hmacKey: rotated.hmacKey });
  }, 60_000);
  afterAll(async () => {
    await stack?.close();
  });

  const assessmentTexts = async (id: number) =>
    (await db().execute<{ queue_item_id: string; raw_output: string | null; override_feedback: string | null; override_reason: string | null }>(sql`
      select queue_item_id, raw_output, override_feedback, override_reason from assessments where id = ${id}`)).rows[0]!;

  it('stores override texts and raw output encrypted, and shows them as plaintext on the review page and in the API', async () => {
    expect(k1Ring.currentId).toBe('k1');
    const a = await createAssessment(stack, { taskId: ids.taskId, studentSub: SUBS.student1, unusable: true });
    // Raw output as ingestion writes it now (chunk-outcomes encrypts it).
    await db().execute(sql`update assessments set raw_output = ${encryptText(k1Ring, '{"criteria": {"thesis": "Amara argues', { queueItemId: a.queueItemId, column: 'raw_output' })} where id = ${a.id}`);
    const ok = await instructor.post(`/instructor/review/${a.id}/override`, { decisionSeq: '0', score: '70', feedback: 'See **Amara** in office hours.', category: 'other', reason: 'Amara cited a weak source.' }, { htmx: true });
    expect(ok.status).toBe(200);
    const stored = await assessmentTexts(a.id);
    for (const value of [stored.raw_output, stored.override_feedback, stored.override_reason]) {
      expect(value).toMatch(/^enc:k1:/);
      expect(value).not.toContain('Amara');
    }
    const page = await instructor.get(`/instructor/review/${a.id}`);
    expect(page.status).toBe(200);
    expect(page.html).toContain('{&#34;criteria&#34;: {&#34;thesis&#34;: &#34;Amara argues');
    expect(page.html).toContain('See <strong>Amara</strong> in office hours.');
    expect(textOf(page.html)).toContain('Reason: Amara cited a weak source.');
    expect(page.html).not.toContain('enc:k1:');
    const api = await instructor.get(`/api/llm-assessments/${a.id}/`);
    expect(api.json()).toMatchObject({ review: { override: { feedback: 'See **Amara** in office hours.', reason: 'Amara cited a weak source.' } } });
    expect(api.html).not.toContain('enc:k1:');
    const viaApi = await createAssessment(stack, { taskId: ids.taskId, studentSub: SUBS.student2 });
    const decided = await instructor.request(`/api/llm-assessments/${viaApi.id}/review/`, { method: 'POST', json: { action: 'override', decisionSeq: 0, score: 50, feedback: 'Good start.', category: 'other', reason: 'Too generous.' } });
    expect(decided.json()).toMatchObject({ review: { override: { feedback: 'Good start.', reason: 'Too generous.' } } });
    expect((await assessmentTexts(viaApi.id)).override_reason).toMatch(/^enc:k1:/);
  });

  it('shows plaintext rows from before, and the retention stub, as they are', async () => {
    const a = await createAssessment(stack, { taskId: ids.taskId, studentSub: SUBS.student3, unusable: true });
    await db().execute(sql`update assessments set raw_output = 'older plaintext output', review_status = 'overridden', override_score = 10,
      override_reason = ${REMOVED_TEXT}, override_feedback = null where id = ${a.id}`);
    const page = await instructor.get(`/instructor/review/${a.id}`);
    expect(page.html).toContain('older plaintext output');
    expect(textOf(page.html)).toContain(`Reason: ${REMOVED_TEXT}`);
  });

  it('rotates everything to the new key while submissions keep arriving, losing nothing', async () => {
    // Work from before: submissions under k1 (one in the version without key ids), assessments with texts under k1.
    for (let i = 0; i < 24; i++) await createAssessment(stack, { taskId: ids.taskId, studentSub: [SUBS.student1, SUBS.student2][i % 2]!, text: `Essay number ${i} about the Revolution.`, unusable: i % 3 === 0 });
    const legacyRow = (await db().execute<{ id: string; task_id: string; student_id: string; attempt: number }>(sql`select id, task_id, student_id, attempt from submissions order by id limit 1`)).rows[0]!;
    const legacyBinding = { taskId: Number(legacyRow.task_id), studentId: Number(legacyRow.student_id), attempt: legacyRow.attempt };
    await db().execute(sql`update submissions set content = ${legacyCiphertext(oldKey, 'Legacy essay text.', legacyBinding)} where id = ${legacyRow.id}`);
    const texts = async (keys: Keyring) => {
      const rows = await db().execute<{ id: string; task_id: string; student_id: string; attempt: number; content: Buffer }>(sql`select id, task_id, student_id, attempt, content from submissions where content is not null order by id`);
      return new Map(rows.rows.map((r) => [Number(r.id), decryptContent(keys, r.content, { taskId: Number(r.task_id), studentId: Number(r.student_id), attempt: r.attempt })]));
    };
    const assessmentPlaintexts = async (keys: Keyring) => {
      const rows = await db().execute<{ id: string; queue_item_id: string; raw_output: string | null; override_feedback: string | null; override_reason: string | null }>(sql`
        select id, queue_item_id, raw_output, override_feedback, override_reason from assessments order by id`);
      return new Map(rows.rows.map((r) => {
        const q = Number(r.queue_item_id);
        return [Number(r.id), [decryptText(keys, r.raw_output, { queueItemId: q, column: 'raw_output' }), decryptText(keys, r.override_feedback, { queueItemId: q, column: 'override_feedback' }), decryptText(keys, r.override_reason, { queueItemId: q, column: 'override_reason' })]];
      }));
    };
    const submissionsBefore = await texts(k1Ring);
    const assessmentsBefore = await assessmentPlaintexts(k1Ring);
    expect(submissionsBefore.get(Number(legacyRow.id))).toBe('Legacy essay text.');
    expect((await keyStatus(db(), rotated)).submissions).toEqual([{ keyId: 'k1', rows: submissionsBefore.size }]);

    // New submissions from a process already restarted with the new keyring, while the rotation runs.
    const studentId = await idOf(stack, sql`select id from users where sub = ${SUBS.student3} limit 1`);
    const courseId = ids.courseId;
    let stop = false;
    const arrived = new Map<number, string>();
    const traffic = (async () => {
      for (let n = 0; !stop || n < 5; n++) {
        const text = `Concurrent essay ${n}.`;
        const attempt = 1000 + n;
        const s = await insertSubmission(db(), { taskId: ids.taskId, courseId, studentId, attempt, content: encryptContent(rotated, text, { taskId: ids.taskId, studentId, attempt }), contentFormat: 'text', charCount: text.length, contentHmac: contentHmac(rotated, text) });
        arrived.set(s.id, text);
        await new Promise((r) => setImmediate(r));
      }
    })();
    const progress: number[] = [];
    const run = await rotateKeys(db(), rotated, { batchSize: 4, onProgress: (p) => progress.push(p.rotated) });
    stop = true;
    await traffic;
    expect(run.stopped).toBe(false);
    expect(run.submissions).toMatchObject({ rotated: submissionsBefore.size, unreadable: 0 });
    expect(run.assessments.unreadable).toBe(0);
    expect(progress.length).toBeGreaterThan(5);

    // Everything reads with the new key alone; the texts and the row count are what they were, plus what arrived.
    const after = await texts(k2Only);
    expect(after.size).toBe(submissionsBefore.size + arrived.size);
    for (const [id, text] of submissionsBefore) expect(after.get(id)).toBe(text);
    for (const [id, text] of arrived) expect(after.get(id)).toBe(text);
    expect(await assessmentPlaintexts(k2Only)).toEqual(assessmentsBefore);
    const status = await keyStatus(db(), rotated);
    expect(status.submissions).toEqual([{ keyId: 'k2', rows: after.size }]);
    expect(status.assessmentTexts.map((c) => c.keyId)).toEqual(['k2']);
    // Retention's stub stays as it is (it is no one's data, and the retention job compares it).
    expect((await db().execute<{ n: number }>(sql`select count(*)::int as n from assessments where override_reason = ${REMOVED_TEXT}`)).rows[0]!.n).toBe(1);
    const raw = await db().execute<{ raw_output: string }>(sql`select raw_output from assessments where raw_output is not null`);
    expect(raw.rows.length).toBeGreaterThan(0);
    for (const r of raw.rows) expect(r.raw_output).toMatch(/^enc:k2:/);
  }, 60_000);

  it('is resumable: stopped after one batch, run again, it finishes the rest', async () => {
    const k3 = randomBytes(32);
    const next = createKeyring([['k3', k3], ['k2', newKey]], { hmacKey: rotated.hmacKey });
    const total = (await keyStatus(db(), next)).submissions.reduce((n, c) => n + c.rows, 0);
    const first = await rotateKeys(db(), next, { batchSize: 5, maxBatches: 1 });
    expect(first.stopped).toBe(true);
    expect(first.submissions.rotated).toBe(5);
    expect((await keyStatus(db(), next)).submissions).toEqual([{ keyId: 'k2', rows: total - 5 }, { keyId: 'k3', rows: 5 }]);
    const second = await rotateKeys(db(), next, { batchSize: 5 });
    expect(second.stopped).toBe(false);
    expect(second.submissions.rotated).toBe(total - 5);
    const status = await keyStatus(db(), next);
    expect(status.submissions).toEqual([{ keyId: 'k3', rows: total }]);
    expect(status.assessmentTexts.map((c) => c.keyId)).toEqual(['k3']);
    // A third run finds nothing to do.
    expect(await rotateKeys(db(), next)).toMatchObject({ submissions: { rotated: 0 }, assessments: { rotated: 0 } });
  }, 60_000);

  it('leaves a row no configured key can read as it is, and says so', async () => {
    const next = createKeyring([['k3', randomBytes(32)]], { hmacKey: rotated.hmacKey });
    const stranger = createKeyring([['k9', randomBytes(32)]], { hmacKey: rotated.hmacKey });
    const studentId = await idOf(stack, sql`select id from users where sub = ${SUBS.student2} limit 1`);
    const content = encryptContent(stranger, 'unreadable', { taskId: ids.taskId, studentId, attempt: 5000 });
    await insertSubmission(db(), { taskId: ids.taskId, courseId: ids.courseId, studentId, attempt: 5000, content, contentFormat: 'text', charCount: 10, contentHmac: 'x' });
    const run = await rotateKeys(db(), next, { batchSize: 50 });
    expect(run.submissions).toMatchObject({ unreadable: 1 });
    const still = await db().execute<{ content: Buffer }>(sql`select content from submissions where attempt = 5000`);
    expect(still.rows[0]!.content.equals(content)).toBe(true);
  }, 60_000);
});
