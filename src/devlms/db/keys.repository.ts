import { randomBytes } from 'node:crypto';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, type CryptoKey, type JWK, type KeyObject } from 'jose';
import type { Queryable } from './queryable.js';

export interface PlatformKey {
  kid: string;
  privateKey: CryptoKey | KeyObject | Uint8Array;
  publicJwk: JWK;
}

/**
 * The platform's RS256 key pair, kept as JWK in the database so a restarted dev LMS keeps signing with the
 * key tools have already cached. Created on first start; the newest key signs.
 */
export async function loadOrCreatePlatformKey(q: Queryable): Promise<PlatformKey> {
  const found = await q.query<{ kid: string; private_jwk: JWK; public_jwk: JWK }>(
    'select kid, private_jwk, public_jwk from devlms.platform_keys order by created_at desc limit 1',
  );
  const row = found.rows[0];
  if (row) return { kid: row.kid, privateKey: await importJWK(row.private_jwk, 'RS256'), publicJwk: row.public_jwk };
  return createPlatformKey(q);
}

/** A new signing key; the older ones stay published, as an LMS rotating its keys does. */
export async function createPlatformKey(q: Queryable): Promise<PlatformKey> {
  const { privateKey, publicKey } = await generateKeyPair('RS256', { modulusLength: 2048, extractable: true });
  const publicJwk = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(publicJwk);
  const fullPublic: JWK = { ...publicJwk, kid, alg: 'RS256', use: 'sig' };
  const privateJwk: JWK = { ...(await exportJWK(privateKey)), kid, alg: 'RS256' };
  await q.query('insert into devlms.platform_keys (kid, private_jwk, public_jwk) values ($1, $2, $3)', [kid, privateJwk, fullPublic]);
  return { kid, privateKey, publicJwk: fullPublic };
}

/** Every public key, for the JWKS (older keys stay published so tokens signed before a rotation still verify). */
export async function listPublicKeys(q: Queryable): Promise<JWK[]> {
  const rows = await q.query<{ public_jwk: JWK }>('select public_jwk from devlms.platform_keys order by created_at desc');
  return rows.rows.map((r) => r.public_jwk);
}

/** A named random secret (HS256 key for the platform's own short-lived tokens), created once. */
export async function loadOrCreateSecret(q: Queryable, name: string): Promise<Uint8Array> {
  await q.query('insert into devlms.secrets (name, value) values ($1, $2) on conflict (name) do nothing', [
    name,
    randomBytes(32).toString('base64url'),
  ]);
  const row = await q.query<{ value: string }>('select value from devlms.secrets where name = $1', [name]);
  return new Uint8Array(Buffer.from(row.rows[0]!.value, 'base64url'));
}
