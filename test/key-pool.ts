import { generateKeyPair } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';

/**
 * ltijs makes a 4,096-bit RSA key pair for every platform it registers, synchronously: 0.7–3 s of one core each time,
 * and every test file registers at least one platform. The run makes a few such pairs once (or reuses the last
 * run's, kept under node_modules/.cache), and each test file's first registrations take them in turn
 * (`setup-key-pool.ts`): real, distinct keys within a file, made once instead of 130 times. A file that registers
 * more platforms than the pool holds gets freshly made keys for the rest.
 */
export const KEY_POOL_SIZE = 6;
const CACHE = path.resolve(import.meta.dirname ?? '.', '../node_modules/.cache/llm-assess/rsa-4096-test-keys.json');

export interface PooledKeyPair {
  publicKey: string;
  privateKey: string;
}

/** ltijs' own options (Utils/Auth.js generatePlatformKeyPair): the pool only stands in for exactly this call. */
export const LTIJS_KEY_OPTIONS = {
  modulusLength: 4096,
  publicKeyEncoding: { type: 'spki', format: 'pem' },
  privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
} as const;

/** Makes (or reuses) the pool and returns the file that holds it, for the workers to read. */
export async function prepareKeyPool(): Promise<string> {
  if (existsSync(CACHE)) {
    const cached = JSON.parse(readFileSync(CACHE, 'utf8')) as PooledKeyPair[];
    if (Array.isArray(cached) && cached.length >= KEY_POOL_SIZE) return CACHE;
  }
  const make = promisify(generateKeyPair);
  // Async generation runs on libuv's threads: the pairs are made side by side while the template migrates.
  const pairs = await Promise.all(Array.from({ length: KEY_POOL_SIZE }, () => make('rsa', LTIJS_KEY_OPTIONS)));
  mkdirSync(path.dirname(CACHE), { recursive: true });
  writeFileSync(CACHE, JSON.stringify(pairs.map((p) => ({ publicKey: p.publicKey, privateKey: p.privateKey }))), { mode: 0o600 });
  return CACHE;
}
