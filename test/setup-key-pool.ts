import crypto from 'node:crypto';
import { readFileSync } from 'node:fs';
import { LTIJS_KEY_OPTIONS, type PooledKeyPair } from './key-pool.js';

/**
 * Runs before each test file (jest `setupFiles`): ltijs' 4,096-bit RSA key generation takes the next key of the
 * run's pool (see key-pool.ts) instead of making one. Node's `crypto` module is one object per worker process,
 * shared by every file it runs, so it is wrapped once and only the file's position in the pool is reset here.
 */
const state = globalThis as typeof globalThis & { __keyPool__?: { pairs: PooledKeyPair[]; next: number } };
const file = process.env.TEST_RSA_KEY_POOL;

if (file) {
  if (!state.__keyPool__) {
    state.__keyPool__ = { pairs: JSON.parse(readFileSync(file, 'utf8')) as PooledKeyPair[], next: 0 };
    const original = crypto.generateKeyPairSync;
    const isLtijsCall = (type: unknown, options: unknown) => type === 'rsa' && JSON.stringify(options) === JSON.stringify(LTIJS_KEY_OPTIONS);
    crypto.generateKeyPairSync = function pooled(this: unknown, type: unknown, options: unknown) {
      const pool = state.__keyPool__!;
      if (isLtijsCall(type, options) && pool.next < pool.pairs.length) return { ...pool.pairs[pool.next++]! };
      return (original as (...args: unknown[]) => unknown).call(this, type, options);
    } as typeof crypto.generateKeyPairSync;
  }
  state.__keyPool__.next = 0;
}
