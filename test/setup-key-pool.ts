import crypto from 'node:crypto';
import { readFileSync } from 'node:fs';
import { LTIJS_KEY_OPTIONS, type PooledKeyPair } from './key-pool.js';

/**
 * Runs before each test file (jest `setupFiles`): ltijs' 4,096-bit RSA key generation takes the next key of the
 * run's pool (see key-pool.ts) instead of making one. Each test file has its own `globalThis`, but Node's `crypto`
 * module is one object per worker process, shared by every file it runs: the pool lives on it, so it is wrapped
 * once per worker and each file only resets its position in the pool.
 */
interface KeyPoolState {
  pairs: PooledKeyPair[];
  next: number;
}
const POOL = Symbol.for('llm-assess.test-key-pool');
const shared = crypto as typeof crypto & { [POOL]?: KeyPoolState };
const file = process.env.TEST_RSA_KEY_POOL;

if (file) {
  if (!shared[POOL]) {
    const pool: KeyPoolState = { pairs: JSON.parse(readFileSync(file, 'utf8')) as PooledKeyPair[], next: 0 };
    const original = crypto.generateKeyPairSync;
    const ltijsOptions = JSON.stringify(LTIJS_KEY_OPTIONS);
    shared[POOL] = pool;
    crypto.generateKeyPairSync = function pooled(this: unknown, type: unknown, options: unknown) {
      if (type === 'rsa' && JSON.stringify(options) === ltijsOptions && pool.next < pool.pairs.length) return { ...pool.pairs[pool.next++]! };
      return (original as (...args: unknown[]) => unknown).call(this, type, options);
    } as typeof crypto.generateKeyPairSync;
  }
  shared[POOL]!.next = 0;
}
