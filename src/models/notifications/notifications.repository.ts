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

/** Whose inbox: notices to the person, and to all of the platform's administrators when they are one. */
export interface InboxOwner {
  platformId: number;
  userId: number;
  administrator: boolean;
}

const inboxOf = (o: InboxOwner) =>
  o.administrator ? sql`platform_id = ${o.platformId} and (user_id is null or user_id = ${o.userId})` : sql`platform_id = ${o.platformId} and user_id = ${o.userId}`;

export interface InboxRow extends NotificationRow {
  kind: string;
  readAt: Date | null;
}

export async function listInbox(db: Db, o: InboxOwner, limit = 50): Promise<InboxRow[]> {
  const rows = await db.execute<{ id: number; kind: string; severity: NotificationRow['severity']; title: string; body: string; link: string | null; created_at: Date; read_at: Date | null }>(sql`
    select id, kind, severity, title, body, link, created_at, read_at from notifications where ${inboxOf(o)}
    order by created_at desc, id desc limit ${limit}`);
  return rows.rows.map((r) => ({ id: Number(r.id), kind: r.kind, severity: r.severity, title: r.title, body: r.body, link: r.link, createdAt: new Date(r.created_at), readAt: r.read_at ? new Date(r.read_at) : null }));
}

export async function countUnread(db: Db, o: InboxOwner): Promise<number> {
  const rows = await db.execute<{ n: number }>(sql`select count(*)::int as n from notifications where ${inboxOf(o)} and read_at is null`);
  return rows.rows[0]?.n ?? 0;
}

/** Marks one notice (or, with id null, every notice) of the inbox read; returns how many changed. */
export async function markRead(db: Db, o: InboxOwner, id: number | null): Promise<number> {
  const rows = await db.execute(sql`
    update notifications set read_at = now() where ${inboxOf(o)} and read_at is null ${id === null ? sql`` : sql`and id = ${id}`} returning id`);
  return rows.rows.length;
}

export async function isInInbox(db: Db, o: InboxOwner, id: number): Promise<boolean> {
  const rows = await db.execute<{ found: boolean }>(sql`select exists (select 1 from notifications where ${inboxOf(o)} and id = ${id}) as found`);
  return Boolean(rows.rows[0]?.found);
}

/** A notice ready to write: its wording rendered, its dedupe key naming the event (and recipient). */
export interface NoticeRow extends NewNotification {
  /** Where its e-mail's button leads (the course or activity in the LMS). */
  lmsUrl: string | null;
  dedupeKey: string;
}

/**
 * Writes the notices not written before (by dedupe key) and, in the same statement, the e-mail each one owes:
 * to its person, or to every administrator of its platform, when they have an address, are not erased, and their
 * preferences want this event by e-mail; pending (sent soon) or held for their digest. Returns how many of each.
 */
export async function insertNotices(db: Db, rows: NoticeRow[]): Promise<{ notices: number; emails: number }> {
  if (!rows.length) return { notices: 0, emails: 0 };
  const input = JSON.stringify(rows.map((r) => ({
    platform_id: r.platformId, course_id: r.courseId, user_id: r.userId, kind: r.kind, severity: r.severity, title: r.title, body: r.body, link: r.link, lms_url: r.lmsUrl, dedupe_key: r.dedupeKey,
  })));
  const result = await db.execute<{ notices: number; emails: number }>(sql`
    with input as (
      select * from jsonb_to_recordset(${input}::jsonb) as x(platform_id bigint, course_id bigint, user_id bigint, kind text, severity text, title text, body text, link text, lms_url text, dedupe_key text)),
    ins as (
      insert into notifications (platform_id, course_id, user_id, kind, severity, title, body, link, dedupe_key)
      select platform_id, course_id, user_id, kind, severity, title, body, link, dedupe_key from input
      on conflict (dedupe_key) do nothing
      returning id, platform_id, user_id, kind, title, body, dedupe_key),
    mail as (
      insert into email_outbox (platform_id, user_id, notification_id, kind, to_address, subject, body, lms_url, status)
      select ins.platform_id, u.id, ins.id, ins.kind, u.email, ins.title, ins.body, i.lms_url,
             case coalesce(p.email_frequency, 'immediately') when 'immediately' then 'pending' else 'held' end
      from ins join input i on i.dedupe_key = ins.dedupe_key
      join users u on u.platform_id = ins.platform_id and (u.id = ins.user_id or (ins.user_id is null and u.administrator_at is not null))
      left join notification_preferences p on p.user_id = u.id
      where coalesce(u.email, '') <> '' and u.erased_at is null
        and coalesce(p.email_frequency, 'immediately') <> 'never' and not (ins.kind = any(coalesce(p.email_off, '{}'::text[])))
      returning id)
    select (select count(*) from ins)::int as notices, (select count(*) from mail)::int as emails`);
  return { notices: result.rows[0]?.notices ?? 0, emails: result.rows[0]?.emails ?? 0 };
}
