import { describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { contentHmac, ContentDecryptionError, decryptContent, encryptContent } from '../src/crypto/content.js';
import { anonymize } from '../src/grading/anonymize-text.js';

const key = randomBytes(32);
const row = { taskId: 7, studentId: 42, attempt: 1 };

describe('submission content encryption', () => {
  it('round-trips text, including non-Latin scripts, and never stores the plaintext', () => {
    const text = 'Photosynthesis — Фотосинтез — 光合作用 🌱';
    const stored = encryptContent(key, text, row);
    expect(stored.includes(Buffer.from('Photosynthesis'))).toBe(false);
    expect(decryptContent(key, stored, row)).toBe(text);
  });

  it('uses a fresh IV: the same text encrypts differently each time', () => {
    expect(encryptContent(key, 'same', row).equals(encryptContent(key, 'same', row))).toBe(false);
  });

  it('refuses a ciphertext moved to another student, task or attempt', () => {
    const stored = encryptContent(key, 'my essay', row);
    for (const other of [{ ...row, studentId: 43 }, { ...row, taskId: 8 }, { ...row, attempt: 2 }]) {
      expect(() => decryptContent(key, stored, other)).toThrow(ContentDecryptionError);
    }
  });

  it('refuses a changed byte, a wrong key and an unknown format', () => {
    const stored = encryptContent(key, 'my essay', row);
    const tampered = Buffer.from(stored);
    tampered[tampered.length - 1]! ^= 1;
    expect(() => decryptContent(key, tampered, row)).toThrow(/could not be decrypted/);
    expect(() => decryptContent(randomBytes(32), stored, row)).toThrow(/could not be decrypted/);
    const otherVersion = Buffer.from(stored);
    otherVersion[0] = 9;
    expect(() => decryptContent(key, otherVersion, row)).toThrow(/unknown submission content format/);
    expect(() => decryptContent(key, Buffer.alloc(5), row)).toThrow(/unknown submission content format/);
  });

  it('rejects a master key that is not 32 bytes', () => {
    expect(() => encryptContent(randomBytes(16), 'x', row)).toThrow(/32 bytes/);
  });

  it('hashes normalized text: whitespace and line endings do not matter, content and key do', () => {
    const a = contentHmac(key, 'First line\r\nsecond   line\n\n\n\nend  ');
    expect(contentHmac(key, 'First line\nsecond line\n\nend')).toBe(a);
    expect(contentHmac(key, 'First line\nsecond line\n\nthe end')).not.toBe(a);
    expect(contentHmac(randomBytes(32), 'First line\nsecond line\n\nend')).not.toBe(a);
  });
});

describe('anonymizing a submission before it is sent', () => {
  const who = { name: 'Amara Okafor', givenName: 'Amara', familyName: 'Okafor', email: 'amara.okafor@example.edu' };

  it('replaces the full name, each name and the e-mail address, case-insensitively', () => {
    const out = anonymize('My name is Amara Okafor (AMARA.OKAFOR@example.edu). okafor family essay, by amara.', who);
    expect(out.text).toBe('My name is [student] ([email 1]). [student] family essay, by [student].');
    expect(out.mapping).toMatchObject({ '[student]': 'Amara Okafor', '[email 1]': 'AMARA.OKAFOR@example.edu' });
  });

  it('keeps words that merely contain a name, and handles possessives and non-Latin letters', () => {
    const chen = { name: 'Li Chen', givenName: 'Li', familyName: 'Chen' };
    expect(anonymize("Chen's notes on Chenoweth; Lin and Li", chen).text).toBe("[student]'s notes on Chenoweth; Lin and [student]");
    expect(anonymize('Zoë wrote this, not Zoëlle', { name: 'Zoë' }).text).toBe('[student] wrote this, not Zoëlle');
  });

  it('takes an initial with the family name, treats regular-expression characters literally, and removes every e-mail', () => {
    expect(anonymize('A plan by J. Smith', { name: 'J Smith' }).text).toBe('A plan by [student]');
    expect(anonymize('Mail a.b+c@x.org or aXb+c@x.org', { email: 'a.b+c@x.org' }).text).toBe('Mail [email 1] or [email 2]');
  });

  it('changes nothing when nothing is known about the student and the text holds no personal data', () => {
    expect(anonymize('Text by someone', {}).text).toBe('Text by someone');
  });
});
