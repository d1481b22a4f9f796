import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { JwksCache, KeyNotFoundError } from '../src/lti/jwks-cache.js';
import { startStack, type Stack } from './helpers/stack.js';

/**
 * Trap 6: ltijs fetched the platform's keys on every launch with no timeout, so a slow LMS hung every launch.
 * The cache is exercised against the dev LMS's real key set, with its faults for slowness and outages.
 */
describe('platform key cache', () => {
  let stack: Stack;
  let jwksUrl: string;
  let kid: string;
  beforeAll(async () => {
    stack = await startStack({ register: false });
    jwksUrl = stack.devlms.devlms.toolRegistration().jwksUrl;
    kid = ((await (await fetch(jwksUrl)).json()) as { keys: Array<{ kid: string }> }).keys[0]!.kid;
  });
  afterAll(async () => {
    await stack?.close();
  });
  const auth = () => ({ method: 'JWK_SET' as const, key: jwksUrl });

  it('fetches the key set once and answers from memory afterwards', async () => {
    const cache = new JwksCache({ ttlMs: 60_000, timeoutMs: 2000 });
    await cache.keyFor(auth(), kid);
    for (let i = 0; i < 20; i++) await cache.keyFor(auth(), kid);
    expect(cache.fetches).toBe(1);
  });

  it('fetches keys only from addresses the outbound rules allow (production: no loopback or private network)', async () => {
    const before = stack.devlms.devlms.toolRegistration().jwksUrl;
    const cache = new JwksCache({ ttlMs: 60_000, timeoutMs: 2000, outbound: { requireHttps: false, allowLoopback: false, allowPrivate: false } });
    await expect(cache.keyFor(auth(), kid)).rejects.toThrow(/Could not fetch the platform's key set from .* \(an address llm-assess may not call\)/);
    expect(cache.fetches).toBe(1);
    // The same URL under development rules works.
    const dev = new JwksCache({ ttlMs: 60_000, timeoutMs: 2000, outbound: { requireHttps: false, allowLoopback: true, allowPrivate: true } });
    await expect(dev.keyFor({ method: 'JWK_SET', key: before }, kid)).resolves.toBeDefined();
  });

  it('gives up on a slow LMS after the timeout, with a clear error', async () => {
    stack.devlms.devlms.setFaults({ jwks: { failNext: 1, status: 200, delayMs: 2000 } });
    const cache = new JwksCache({ ttlMs: 60_000, timeoutMs: 200 });
    const started = Date.now();
    await expect(cache.keyFor(auth(), kid)).rejects.toThrow(/Could not fetch the platform's key set/);
    expect(Date.now() - started).toBeLessThan(1500);
    stack.devlms.devlms.setFaults({});
  });

  it('keeps using the keys it has while the LMS is failing, after the TTL', async () => {
    const cache = new JwksCache({ ttlMs: 1, timeoutMs: 1000, minRefetchMs: 0 });
    await cache.keyFor(auth(), kid);
    stack.devlms.devlms.setFaults({ jwks: { failNext: 5, status: 503 } });
    await new Promise((r) => setTimeout(r, 5));
    await expect(cache.keyFor(auth(), kid)).resolves.toBeDefined();
    stack.devlms.devlms.setFaults({});
  });

  it('refetches once for an unknown kid (key rotation) but not for every forged kid', async () => {
    // The interval is wide enough that ten lookups fit in it on a loaded machine.
    const cache = new JwksCache({ ttlMs: 60_000, timeoutMs: 2000, minRefetchMs: 400 });
    await cache.keyFor(auth(), kid);
    const newKid = await stack.devlms.devlms.rotateKey();
    await new Promise((r) => setTimeout(r, 420));
    await expect(cache.keyFor(auth(), newKid)).resolves.toBeDefined();
    expect(cache.fetches).toBe(2);
    // Random kids within the refetch interval do not make us call the LMS again.
    for (let i = 0; i < 10; i++) await expect(cache.keyFor(auth(), `forged-${i}`)).rejects.toBeInstanceOf(KeyNotFoundError);
    expect(cache.fetches).toBe(2);
    // After the interval, one more unknown kid may look again (a second rotation).
    await new Promise((r) => setTimeout(r, 420));
    await expect(cache.keyFor(auth(), 'forged-late')).rejects.toBeInstanceOf(KeyNotFoundError);
    expect(cache.fetches).toBe(3);
  });

  it('rejects a key set that is not one, and a token without kid', async () => {
    const cache = new JwksCache({ ttlMs: 60_000, timeoutMs: 2000 });
    await expect(cache.keyFor({ method: 'JWK_SET', key: `${stack.devlmsUrl}/.well-known/openid-configuration` }, kid)).rejects.toThrow(/is not a JWK set/);
    await expect(cache.keyFor(auth(), undefined)).rejects.toThrow(/no key id/);
  });

  it('serves launches while the LMS key endpoint is slow, once keys are cached', async () => {
    const lti = await startStack();
    try {
      await lti.browser().launch(lti.devlmsUrl, 'student1', { task: '1' });
      lti.devlms.devlms.setFaults({ jwks: { failNext: 100, status: 200, delayMs: 5000 } });
      const started = Date.now();
      await lti.browser().launch(lti.devlmsUrl, 'student2', { task: '1' });
      expect(Date.now() - started).toBeLessThan(2000);
    } finally {
      lti.devlms.devlms.setFaults({});
      await lti.close();
    }
  });
});
