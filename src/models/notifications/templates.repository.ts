import { sql } from 'drizzle-orm';
import type { Db } from '../../db/db.js';

export interface StoredWording {
  platformId: number;
  kind: string;
  subject: string;
  body: string;
  updatedAt: Date;
}

/** The platforms' own wordings of these events (absent: the default). */
export async function wordingsOf(db: Db, platformIds: number[]): Promise<StoredWording[]> {
  if (!platformIds.length) return [];
  const rows = await db.execute<{ platform_id: number; kind: string; subject: string; body: string; updated_at: Date }>(sql`
    select platform_id, kind, subject, body, updated_at from notification_templates where platform_id = any(${sql.param([...new Set(platformIds)])}::bigint[])`);
  return rows.rows.map((r) => ({ platformId: Number(r.platform_id), kind: r.kind, subject: r.subject, body: r.body, updatedAt: new Date(r.updated_at) }));
}

export async function saveWording(db: Db, platformId: number, kind: string, w: { subject: string; body: string }, userId: number): Promise<void> {
  await db.execute(sql`
    insert into notification_templates (platform_id, kind, subject, body, updated_by) values (${platformId}, ${kind}, ${w.subject}, ${w.body}, ${userId})
    on conflict (platform_id, kind) do update set subject = excluded.subject, body = excluded.body, updated_by = excluded.updated_by, updated_at = now()`);
}

/** Back to the default wording; whether there was one of the platform's own. */
export async function deleteWording(db: Db, platformId: number, kind: string): Promise<boolean> {
  const rows = await db.execute(sql`delete from notification_templates where platform_id = ${platformId} and kind = ${kind} returning kind`);
  return rows.rows.length > 0;
}
