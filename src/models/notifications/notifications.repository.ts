import { sql, type SQL } from 'drizzle-orm';
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

/**
 * "Feedback ready", once per assessment, to the student whose work it is, for those of `assessmentIds` released to
 * them. The score shown is the one they may see (the override where there is one).
 */
export async function notifyFeedbackReady(db: Db, assessmentIds: number[]): Promise<number> {
  if (!assessmentIds.length) return 0;
  return feedbackReadyWhere(db, sql`a.id = any(${sql.param(assessmentIds)}::bigint[])`);
}

/** The same, for the results a batch chunk just recorded (by their custom ids). */
export async function notifyFeedbackReadyOfResults(db: Db, customIds: string[]): Promise<number> {
  if (!customIds.length) return 0;
  return feedbackReadyWhere(db, sql`a.custom_id = any(${sql.param(customIds)}::text[])`);
}

async function feedbackReadyWhere(db: Db, which: SQL): Promise<number> {
  const rows = await db.execute(sql`
    insert into notifications (platform_id, course_id, user_id, kind, severity, title, body, link, dedupe_key)
    select a.platform_id, a.course_id, s.student_id, 'feedback_ready', 'info',
           'Your feedback on “' || t.title || '” is ready',
           'Attempt ' || s.attempt || ': ' || trim(to_char(coalesce(case when a.review_status = 'overridden' then a.override_score end, a.score), 'FM999990.##'), '.') || ' / ' || trim(to_char(a.max_score, 'FM999990.##'), '.'),
           '/student/submissions/' || s.id || '/feedback', 'feedback_ready:' || a.id
    from assessments a join submissions s on s.id = a.submission_id join tasks t on t.id = a.task_id
    where ${which} and a.released_at is not null
    on conflict (dedupe_key) do nothing
    returning id`);
  return rows.rows.length;
}

/**
 * "Failed for good" (dead letter), once per queue item: to each instructor of its course and to the platform's
 * administrators, for the items of these failed requests that are failed now (out of sends).
 */
export async function notifyDeadLettersOfRequests(db: Db, batchId: number, customIds: string[]): Promise<number> {
  if (!customIds.length) return 0;
  const rows = await db.execute(sql`
    with dead as (
      select q.id, q.platform_id, q.course_id, q.task_id, q.last_error, s.attempt, t.title as task_title
      from batch_requests br join queue_items q on q.id = br.queue_item_id join submissions s on s.id = q.submission_id join tasks t on t.id = q.task_id
      where br.batch_id = ${batchId} and br.custom_id = any(${sql.param(customIds)}::text[]) and q.status = 'failed'),
    recipients as (
      select d.*, m.user_id from dead d join memberships m on m.course_id = d.course_id and m.role = 'instructor' and m.active
      union all
      select d.*, null::bigint from dead d)
    insert into notifications (platform_id, course_id, user_id, kind, severity, title, body, link, dedupe_key)
    select r.platform_id, r.course_id, r.user_id, 'dead_letter', 'error',
           'Work on “' || r.task_title || '” could not be graded',
           'Attempt ' || r.attempt || ' failed for good' || coalesce(': ' || r.last_error, '.') || ' Retry it or grade it by hand from the task page.',
           case when r.user_id is null then '/admin/queue?status=failed' else '/instructor/tasks/' || r.task_id || '?status=failed' end,
           'dead_letter:' || r.id || ':' || coalesce(r.user_id::text, 'admins')
    from recipients r
    on conflict (dedupe_key) do nothing
    returning id`);
  return rows.rows.length;
}

/**
 * "Reviews waiting": one notice a day per instructor and course with results waiting for review (a digest, never one
 * per result). `day` (YYYY-MM-DD) keys it: a second run the same day adds nothing.
 */
export async function notifyReviewsWaiting(db: Db, day: string): Promise<number> {
  const rows = await db.execute(sql`
    with waiting as (
      select a.platform_id, a.course_id, count(*)::int as n from assessments a
      where a.review_status = 'pending_review' and not (a.released_at is not null)
      group by a.platform_id, a.course_id)
    insert into notifications (platform_id, course_id, user_id, kind, severity, title, body, link, dedupe_key)
    select w.platform_id, w.course_id, m.user_id, 'reviews_waiting', 'info',
           w.n || case when w.n = 1 then ' result waits' else ' results wait' end || ' for your review in ' || c.title,
           'Open Review to approve, change or reject them; students see their feedback once you decide.',
           '/instructor/review', 'reviews_waiting:' || w.course_id || ':' || m.user_id || ':' || ${day}
    from waiting w join courses c on c.id = w.course_id
    join memberships m on m.course_id = w.course_id and m.role = 'instructor' and m.active
    on conflict (dedupe_key) do nothing
    returning id`);
  return rows.rows.length;
}
