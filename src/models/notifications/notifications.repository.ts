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
 * Marks a notice read (for everyone it was addressed to, when it went to all administrators), with the budget
 * alerts stacked under it: the earlier unread alerts of the same budget scope (75 %, then 90 %, then 95 %: one
 * dismissal, not three). Returns how many were dismissed; 0 when the platform has no such notice for this person.
 * Dismissing one already read is not an error (it counts).
 */
export async function dismiss(db: Db, platformId: number, userId: number, id: number): Promise<number> {
  const rows = await db.execute(sql`
    with target as (select id, kind, course_id from notifications where id = ${id} and ${addressedTo(platformId, userId)})
    update notifications n set read_at = coalesce(n.read_at, now())
    from target t
    where n.id = t.id
       or (t.kind = 'budget_alert' and n.kind = t.kind and n.id < t.id and n.read_at is null and n.course_id is not distinct from t.course_id
           and n.platform_id = ${platformId} and (n.user_id is null or n.user_id = ${userId}))
    returning n.id`);
  return rows.rows.length;
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
