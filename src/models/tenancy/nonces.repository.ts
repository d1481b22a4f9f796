import { lt, sql } from 'drizzle-orm';
import type { Db } from '../../db/db.js';
import { ltiNonces } from './tenancy.table.js';

/**
 * Records a nonce as used; false when it was already used (a replay). One statement, so two requests racing
 * with the same token cannot both win.
 */
export async function claimNonce(db: Db, issuer: string, nonce: string, expiresAt: Date): Promise<boolean> {
  const rows = await db.insert(ltiNonces).values({ issuer, nonce, expiresAt }).onConflictDoNothing().returning({ nonce: ltiNonces.nonce });
  return rows.length > 0;
}

export async function purgeExpiredNonces(db: Db): Promise<number> {
  const rows = await db.delete(ltiNonces).where(lt(ltiNonces.expiresAt, sql`now()`)).returning({ nonce: ltiNonces.nonce });
  return rows.length;
}

/**
 * Deletes ltijs login states nobody can use any more. Our login initiation stores a row in ltijs-sequelize's
 * `states` table (columns `state`, `query`, `createdAt`) whenever the launch target carries query parameters, and
 * the launch deletes it; a login that never comes back leaves it behind. Once the browser has dropped the state
 * cookie (the login's STATE_COOKIE_MAX_AGE_MS, given as maxAgeMs) no launch can match the row, yet ltijs-sequelize only sweeps hourly, so a login
 * flood would pile rows up for an hour. Returns how many rows went.
 */
export async function purgeExpiredLtiStates(db: Db, maxAgeMs: number): Promise<number> {
  const result = await db.execute(sql`delete from states where "createdAt" < now() - make_interval(secs => ${maxAgeMs / 1000})`);
  return result.rowCount ?? 0;
}
