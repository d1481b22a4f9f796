import { createHash, randomBytes } from 'node:crypto';

/**
 * Deterministic choices: the same request (or custom_id) and seed always give the same answer, the same
 * injected fault and the same output position, run after run. SHA-256 is overkill for randomness but is
 * built in, stable across Node versions, and fast enough here (a few µs).
 */
export function unitHash(...parts: string[]): number {
  const digest = createHash('sha256').update(parts.join('\u0000')).digest();
  return digest.readUInt32BE(0) / 0x1_0000_0000;
}

export function hexHash(length: number, ...parts: string[]): string {
  return createHash('sha256').update(parts.join('\u0000')).digest('hex').slice(0, length);
}

/** Random ids shaped like OpenAI's: file-…, batch_…, batch_req_…, chatcmpl-… */
export function newId(prefix: string, length = 24): string {
  return `${prefix}${randomBytes(Math.ceil(length / 2)).toString('hex').slice(0, length)}`;
}
