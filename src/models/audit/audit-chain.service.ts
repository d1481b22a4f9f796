import { createHash } from 'node:crypto';
import type { RootDb } from '../../db/db.js';
import { recordAudit } from './audit.repository.js';
import { chainHead, sealedRows, sealRow, trySealLock, unsealedRows } from './audit-chain.repository.js';

const CHUNK = 500;

export function chainHash(previous: string, canonical: string): string {
  return createHash('sha256').update(previous).update('\n').update(canonical).digest('hex');
}

/**
 * Seals the rows written since the last run into the hash chain, in the order they are found (a row committed
 * late gets a later place: the chain orders sealing, not writing). One sealer at a time; a chunk per transaction.
 * Returns how many rows it sealed.
 */
export async function sealAuditLog(db: RootDb): Promise<number> {
  let sealed = 0;
  for (;;) {
    const n = await db.transaction(async (tx) => {
      if (!(await trySealLock(tx))) return 0;
      const rows = await unsealedRows(tx, CHUNK);
      let { seq, hash } = await chainHead(tx);
      for (const row of rows) {
        seq += 1;
        hash = chainHash(hash, row.canonical);
        await sealRow(tx, row.id, seq, hash);
      }
      return rows.length;
    });
    sealed += n;
    if (n < CHUNK) return sealed;
  }
}

export type ChainCheck =
  | { intact: true; checked: number }
  | { intact: false; checked: number; /** The first row whose hash does not follow (changed, or a row before it removed). */ brokenAt: { id: number; seq: number; platformId: number | null } };

/** Recomputes the chain from its start: a changed or removed row breaks it there. */
export async function verifyAuditChain(db: RootDb): Promise<ChainCheck> {
  let previous = '';
  let expectedSeq = 1;
  let checked = 0;
  for (;;) {
    const rows = await sealedRows(db, expectedSeq - 1, CHUNK);
    for (const row of rows) {
      if (row.sealSeq !== expectedSeq || row.hash !== chainHash(previous, row.canonical)) {
        return { intact: false, checked, brokenAt: { id: row.id, seq: row.sealSeq!, platformId: row.platformId } };
      }
      previous = row.hash;
      expectedSeq += 1;
      checked += 1;
    }
    if (rows.length < CHUNK) return { intact: true, checked };
  }
}

/** An administrator's check of the chain: the result, recorded with who asked (a review expects to see the checks). */
export async function checkAuditChain(db: RootDb, who: { platformId: number; userId: number }): Promise<ChainCheck> {
  const result = await verifyAuditChain(db);
  await recordAudit(db, { platformId: who.platformId, actorId: who.userId, actorKind: 'user', action: 'audit.chain_verified', entityType: 'audit_log', details: { intact: result.intact, checked: result.checked } });
  return result;
}
