import { and, desc, eq, gt, isNull, sql } from 'drizzle-orm';
import type { Db } from '../../db/db.js';
import { registrationInvites } from './tenancy.table.js';

export type InviteRow = typeof registrationInvites.$inferSelect;

export async function insertInvite(
  db: Db,
  values: { tokenHash: string; note: string | null; createdBy: string; createdByPlatformId: number | null; issuer: string | null; joinPlatformId: number | null; expiresAt: Date },
): Promise<InviteRow> {
  const [row] = await db.insert(registrationInvites).values(values).returning();
  return row!;
}

/** Marks a link used, if it is known, unused and not expired: one conditional update, so a link works once. */
export async function spendInvite(db: Db, tokenHash: string): Promise<InviteRow | undefined> {
  const [row] = await db
    .update(registrationInvites)
    .set({ usedAt: sql`now()` })
    .where(and(eq(registrationInvites.tokenHash, tokenHash), isNull(registrationInvites.usedAt), gt(registrationInvites.expiresAt, sql`now()`)))
    .returning();
  return row;
}

export async function recordInviteOutcome(db: Db, id: number, outcome: string, platformId: number | null = null): Promise<void> {
  await db.update(registrationInvites).set({ outcome: outcome.slice(0, 500), platformId }).where(eq(registrationInvites.id, id));
}

/** The links a platform's administrators made, newest first. */
export async function listInvitesOf(db: Db, platformId: number, limit = 10): Promise<InviteRow[]> {
  return db
    .select()
    .from(registrationInvites)
    .where(eq(registrationInvites.createdByPlatformId, platformId))
    .orderBy(desc(registrationInvites.id))
    .limit(limit);
}
