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
    expect(config.encryptionKey).toHaveLength(32);
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
