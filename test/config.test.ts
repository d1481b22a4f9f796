import { describe, expect, it } from '@jest/globals';
import { ConfigError, loadConfig } from '../src/config.js';

const secrets = { LTI_KEY: 'k'.repeat(40), ENCRYPTION_KEY: Buffer.alloc(32, 1).toString('base64') };

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('config', () => {
  it('gives every setting a working local default', () => {
    const config = loadConfig(secrets);
    expect(config.port).toBe(3000);
    expect(config.toolUrl).toBe('http://localhost:3000');
    expect(config.devlms.url).toBe('http://127.0.0.1:4000');
    expect(config.database.url).toBeUndefined();
    expect(config.openai.demoMode).toBe(true);
    expect(config.openai.baseUrl).toBe('http://127.0.0.1:4010/v1');
    expect(config.encryptionKey.currentId).toBe('k1');
    expect(config.encryptionKey.keys.get('k1')).toEqual(Buffer.alloc(32, 1));
  });

  it('uses OpenAI itself once an API key is set', () => {
    const config = loadConfig({ ...secrets, OPENAI_API_KEY: 'sk-test' });
    expect(config.openai.demoMode).toBe(false);
    expect(config.openai.baseUrl).toBe('https://api.openai.com/v1');
  });

  it('names a variable with a wrong value', () => {
    expect(problemsOf({ ...secrets, PORT: 'eighty' })).toEqual([expect.stringMatching(/^PORT: /)]);
    expect(problemsOf({ ...secrets, DATABASE_URL: 'mysql://x' })).toEqual([expect.stringMatching(/^DATABASE_URL: .*postgres/)]);
    expect(problemsOf({ ...secrets, TOOL_URL: 'ftp://tool' })).toEqual([expect.stringMatching(/^TOOL_URL: /)]);
    expect(problemsOf({ ...secrets, ROLE: 'janitor' })).toEqual([expect.stringMatching(/^ROLE: /)]);
    expect(problemsOf({ ...secrets, LTI_TOKEN_MAX_AGE_SECONDS: '0' })).toEqual([expect.stringMatching(/^LTI_TOKEN_MAX_AGE_SECONDS: /)]);
  });

  it('names missing secrets', () => {
    const problems = problemsOf({});
    expect(problems).toEqual(expect.arrayContaining([expect.stringMatching(/^LTI_KEY: required/), expect.stringMatching(/^ENCRYPTION_KEY: required/)]));
    expect(problemsOf({ ...secrets, LTI_KEY: 'short' })).toEqual([expect.stringMatching(/^LTI_KEY: must be at least 32/)]);
    expect(problemsOf({ ...secrets, ENCRYPTION_KEY: 'abc' })).toEqual([expect.stringMatching(/^ENCRYPTION_KEY: must be 32 bytes/)]);
  });

  describe('the encryption keyring', () => {
    const k = (n: number) => Buffer.alloc(32, n).toString('base64');

    it('takes ENCRYPTION_KEYS in order, the first the current key, with ENCRYPTION_KEY as k1', () => {
      const ring = loadConfig({ ...secrets, ENCRYPTION_KEYS: `k2:${k(2)}` }).encryptionKey;
      expect(ring.currentId).toBe('k2');
      expect([...ring.keys.keys()]).toEqual(['k2', 'k1']);
      expect(ring.keys.get('k1')).toEqual(Buffer.alloc(32, 1));
      const listed = loadConfig({ LTI_KEY: secrets.LTI_KEY, ENCRYPTION_KEYS: ` k2:${k(2)} , k1:${k(1)} ` }).encryptionKey;
      expect([...listed.keys.keys()]).toEqual(['k2', 'k1']);
      // The content HMAC comes from k1 whichever key is current, so it does not change with the rotation.
      expect(listed.hmacKey).toEqual(loadConfig(secrets).encryptionKey.hmacKey);
      const withoutK1 = loadConfig({ LTI_KEY: secrets.LTI_KEY, ENCRYPTION_KEYS: `k2:${k(2)}`, CONTENT_HMAC_KEY: k(9) }).encryptionKey;
      expect(withoutK1.hmacKey).toEqual(Buffer.alloc(32, 9));
    });

    it('names a bad id, a bad length, a duplicate id and a missing entry, never showing a key', () => {
      expect(problemsOf({ ...secrets, ENCRYPTION_KEYS: `k 2:${k(2)}` })).toEqual([`ENCRYPTION_KEYS: entry 1: the key id "k 2" must be 1 to 32 letters, digits, '-' or '_'`]);
      expect(problemsOf({ ...secrets, ENCRYPTION_KEYS: `k2:${k(2)},k3:${Buffer.alloc(16, 7).toString('base64')}` })).toEqual(['ENCRYPTION_KEYS: the key "k3" must be 32 bytes, base64-encoded']);
      expect(problemsOf({ ...secrets, ENCRYPTION_KEYS: `k2:${k(2)},k2:${k(3)}` })).toEqual(['ENCRYPTION_KEYS: the key id "k2" appears twice']);
      const noId = problemsOf({ ...secrets, ENCRYPTION_KEYS: k(2) });
      expect(noId).toEqual(['ENCRYPTION_KEYS: entry 1 is not <key id>:<base64 key> (e.g. k2:…)']);
      expect(noId.join()).not.toContain(k(2));
      expect(problemsOf({ ...secrets, ENCRYPTION_KEYS: ',' })).toEqual(['ENCRYPTION_KEYS: names no key']);
    });

    it('refuses a k1 that is not ENCRYPTION_KEY, and a keyring that cannot keep the content HMAC', () => {
      expect(problemsOf({ ...secrets, ENCRYPTION_KEYS: `k2:${k(2)},k1:${k(3)}` })).toEqual([expect.stringMatching(/^ENCRYPTION_KEYS: the key "k1" differs from ENCRYPTION_KEY/)]);
      expect(problemsOf({ LTI_KEY: secrets.LTI_KEY, ENCRYPTION_KEYS: `k2:${k(2)}` })).toEqual([expect.stringMatching(/^CONTENT_HMAC_KEY: required when no key "k1" is configured/)]);
      expect(problemsOf({ ...secrets, CONTENT_HMAC_KEY: 'short' })).toEqual(['CONTENT_HMAC_KEY: must be 32 bytes, base64-encoded']);
    });
  });

  it('requires a real database and public URL in production', () => {
    const problems = problemsOf({ ...secrets, NODE_ENV: 'production' });
    expect(problems).toEqual([expect.stringMatching(/^DATABASE_URL: required in production/), expect.stringMatching(/^TOOL_URL: required in production/)]);
  });

  it('takes administrators by issuer and sub only, never by e-mail or a bare sub', () => {
    expect(loadConfig({ ...secrets, LTI_ADMIN_ALLOWLIST: 'https://moodle.example.edu#42, https://lms.example.edu/moodle#a#b' }).lti.adminAllowlist).toEqual([
      { issuer: 'https://moodle.example.edu', sub: '42' },
      { issuer: 'https://lms.example.edu/moodle', sub: 'a#b' },
    ]);
    const problems = problemsOf({ ...secrets, LTI_ADMIN_ALLOWLIST: 'dean@example.edu,8f6b2c1e,https://moodle.example.edu#,#42' });
    expect(problems).toHaveLength(4);
    expect(problems[0]).toMatch(/^LTI_ADMIN_ALLOWLIST\.0: "dean@example.edu" is not <issuer>#<sub> .*e-mail addresses and bare subs are not accepted/);
    expect(problems.slice(1)).toEqual([expect.stringMatching(/"8f6b2c1e" is not/), expect.stringMatching(/"https:\/\/moodle.example.edu#" is not/), expect.stringMatching(/"#42" is not/)]);
  });

  it('treats an empty variable as unset', () => {
    expect(loadConfig({ ...secrets, PORT: '' }).port).toBe(3000);
  });
});
