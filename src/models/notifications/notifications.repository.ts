import { sql } from 'drizzle-orm';
import type { Db } from '../../db/db.js';

export interface NotificationRow {
  id: number;
  severity: 'info' | 'warning' | 'error';
  title: string;
  body: string;
  link: string | null;
  createdAt: Date;
}

/** What a person of a platform has not dismissed yet: notices to them and to all of its administrators (user null). */
const addressedTo = (platformId: number, userId: number) => sql`platform_id = ${platformId} and (user_id is null or user_id = ${userId})`;

export async function listUnread(db: Db, platformId: number, userId: number, limit = 20): Promise<NotificationRow[]> {
  const rows = await db.execute<{ id: number; severity: NotificationRow['severity']; title: string; body: string; link: string | null; created_at: Date }>(sql`
    select id, severity, title, body, link, created_at from notifications
    where ${addressedTo(platformId, userId)} and read_at is null
    order by created_at desc, id desc limit ${limit}`);
  return rows.rows.map((r) => ({ id: Number(r.id), severity: r.severity, title: r.title, body: r.body, link: r.link, createdAt: new Date(r.created_at) }));
}

/**
 * Marks a notice read (for everyone it was addressed to, when it went to all administrators). False when the
 * platform has no such notice for this person; dismissing one already read is not an error.
 */
export async function dismiss(db: Db, platformId: number, userId: number, id: number): Promise<boolean> {
  const rows = await db.execute(sql`
    update notifications set read_at = coalesce(read_at, now())
    where id = ${id} and ${addressedTo(platformId, userId)}
    returning id`);
  return rows.rows.length > 0;
}

export interface NewNotification {
  platformId: number;
  courseId: number | null;
  /** Null: every administrator of the platform. */
  userId: number | null;
  kind: string;
  severity: NotificationRow['severity'];
  title: string;
  body: string;
  link: string | null;
}

export async function insertNotification(db: Db, n: NewNotification): Promise<void> {
  await db.execute(sql`
    insert into notifications (platform_id, course_id, user_id, kind, severity, title, body, link)
    values (${n.platformId}, ${n.courseId}, ${n.userId}, ${n.kind}, ${n.severity}, ${n.title}, ${n.body}, ${n.link})`);
}
