import { sql } from 'drizzle-orm';
import type { Db } from '../../db/db.js';

/**
 * A row as the chain hashes it: every column but the seal, in a fixed order, written by the database so that the
 * sealing job and any later check read the very same text (jsonb prints its keys in one canonical order; the time
 * is whole microseconds since the epoch, which a JavaScript Date would round).
 */
const CANONICAL = sql`concat_ws('|', id, coalesce(platform_id::text, ''), coalesce(course_id::text, ''), coalesce(actor_id::text, ''),
  actor_kind, action, entity_type, coalesce(entity_id, ''), details::text, (extract(epoch from created_at) * 1000000)::bigint)`;

export interface ChainRow {
  id: number;
  sealSeq: number | null;
  hash: string | null;
  canonical: string;
  platformId: number | null;
}

/** Serialises sealing: one sealer at a time (false: another holds it until its transaction ends). */
export async function trySealLock(db: Db): Promise<boolean> {
  const rows = await db.execute<{ ok: boolean }>(sql`select pg_try_advisory_xact_lock(hashtextextended('audit-log-seal', 0)) as ok`);
  return Boolean(rows.rows[0]?.ok);
}

/** The last sealed row's position and hash (0 and the empty string before the first). */
export async function chainHead(db: Db): Promise<{ seq: number; hash: string }> {
  const rows = await db.execute<{ seal_seq: string; hash: string }>(sql`select seal_seq, hash from audit_log where seal_seq is not null order by seal_seq desc limit 1`);
  const r = rows.rows[0];
  return r ? { seq: Number(r.seal_seq), hash: r.hash } : { seq: 0, hash: '' };
}

/** Rows committed and not sealed yet, oldest first. */
export async function unsealedRows(db: Db, limit: number): Promise<ChainRow[]> {
  const rows = await db.execute<{ id: string; canonical: string; platform_id: string | null }>(sql`
    select id, ${CANONICAL} as canonical, platform_id from audit_log where hash is null order by id limit ${limit}`);
  return rows.rows.map((r) => ({ id: Number(r.id), sealSeq: null, hash: null, canonical: r.canonical, platformId: r.platform_id == null ? null : Number(r.platform_id) }));
}

export async function sealRow(db: Db, id: number, seq: number, hash: string): Promise<void> {
  await db.execute(sql`update audit_log set seal_seq = ${seq}, hash = ${hash} where id = ${id} and hash is null`);
}

/** Sealed rows in chain order, from `afterSeq` on. */
export async function sealedRows(db: Db, afterSeq: number, limit: number): Promise<ChainRow[]> {
  const rows = await db.execute<{ id: string; seal_seq: string; hash: string; canonical: string; platform_id: string | null }>(sql`
    select id, seal_seq, hash, ${CANONICAL} as canonical, platform_id from audit_log
    where seal_seq > ${afterSeq} order by seal_seq limit ${limit}`);
  return rows.rows.map((r) => ({ id: Number(r.id), sealSeq: Number(r.seal_seq), hash: r.hash, canonical: r.canonical, platformId: r.platform_id == null ? null : Number(r.platform_id) }));
}
