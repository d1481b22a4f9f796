import type { Queryable } from './queryable.js';

/** Access tokens are opaque; only their SHA-256 is stored, so a database dump does not hand out live tokens. */
export async function insertAccessToken(
  q: Queryable,
  t: { tokenHash: string; clientId: string; scopes: string[]; expiresAt: Date },
): Promise<void> {
  // Expired rows go on each insert: the table stays small without a timer that would outlive close().
  await q.query('delete from devlms.access_tokens where expires_at < now()');
  await q.query('insert into devlms.access_tokens (token_hash, client_id, scopes, expires_at) values ($1, $2, $3, $4)', [
    t.tokenHash,
    t.clientId,
    t.scopes,
    t.expiresAt,
  ]);
}

export async function findAccessToken(q: Queryable, tokenHash: string): Promise<{ clientId: string; scopes: string[] } | null> {
  const res = await q.query<{ client_id: string; scopes: string[] }>(
    'select client_id, scopes from devlms.access_tokens where token_hash = $1 and expires_at > now()',
    [tokenHash],
  );
  const r = res.rows[0];
  return r ? { clientId: r.client_id, scopes: r.scopes } : null;
}

/**
 * Records a one-time id (client assertion `jti`, deep-linking response nonce) and says whether it was new.
 * It is kept until the token carrying it expires, after which the token is refused for its expiry anyway.
 */
export async function claimJti(q: Queryable, clientId: string, jti: string, expiresAt: Date): Promise<boolean> {
  await q.query('delete from devlms.used_jtis where expires_at < now()');
  const res = await q.query(
    'insert into devlms.used_jtis (client_id, jti, expires_at) values ($1, $2, $3) on conflict (client_id, jti) do nothing',
    [clientId, jti, expiresAt],
  );
  return res.rowCount === 1;
}

export async function insertRegistrationToken(q: Queryable, tokenHash: string, expiresAt: Date): Promise<void> {
  await q.query('insert into devlms.registration_tokens (token_hash, expires_at) values ($1, $2)', [tokenHash, expiresAt]);
}

export async function findRegistrationToken(q: Queryable, tokenHash: string): Promise<{ expiresAt: Date; usedAt: Date | null } | null> {
  const res = await q.query<{ expires_at: Date; used_at: Date | null }>(
    'select expires_at, used_at from devlms.registration_tokens where token_hash = $1',
    [tokenHash],
  );
  const r = res.rows[0];
  return r ? { expiresAt: r.expires_at, usedAt: r.used_at } : null;
}

/** Marks a registration token used; false when it was used meanwhile or has expired (one registration per token). */
export async function consumeRegistrationToken(q: Queryable, tokenHash: string): Promise<boolean> {
  const res = await q.query(
    'update devlms.registration_tokens set used_at = now() where token_hash = $1 and used_at is null and expires_at > now()',
    [tokenHash],
  );
  return res.rowCount === 1;
}
