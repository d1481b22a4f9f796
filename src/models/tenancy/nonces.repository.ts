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
