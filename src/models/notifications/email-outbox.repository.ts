import { sql } from 'drizzle-orm';
import type { Db } from '../../db/db.js';
import type { EmailStatus } from './notifications.table.js';

export interface OutboxEmail {
  id: number;
  platformId: number;
  userId: number;
  kind: string;
  toAddress: string;
  subject: string;
  body: string;
  lmsUrl: string | null;
  attempts: number;
}

type OutboxDbRow = { id: number; platform_id: number; user_id: number; kind: string; to_address: string; subject: string; body: string; lms_url: string | null; attempts: number };
const outboxEmail = (r: OutboxDbRow): OutboxEmail => ({
  id: Number(r.id), platformId: Number(r.platform_id), userId: Number(r.user_id), kind: r.kind, toAddress: r.to_address, subject: r.subject, body: r.body, lmsUrl: r.lms_url, attempts: r.attempts,
});

/**
 * Claims due e-mail for this worker: pending ones whose time has come, and ones a worker claimed but never
 * finished (its lease ran out: it died mid-send). `skip locked` lets several workers share the work; the lease
 * keeps a slow send from being claimed twice.
 */
export async function claimDueEmail(db: Db, limit: number, leaseMs: number): Promise<OutboxEmail[]> {
  const rows = await db.execute<OutboxDbRow>(sql`
    update email_outbox o set status = 'sending', attempts = o.attempts + 1, lease_until = now() + ${leaseMs} * interval '1 millisecond'
    from (select id from email_outbox
          where (status = 'pending' and next_attempt_at <= now()) or (status = 'sending' and lease_until < now())
          order by next_attempt_at, id limit ${limit} for update skip locked) due
    where o.id = due.id
    returning o.id, o.platform_id, o.user_id, o.kind, o.to_address, o.subject, o.body, o.lms_url, o.attempts`);
  return rows.rows.map(outboxEmail);
}

export async function markEmailSent(db: Db, id: number, messageId: string): Promise<void> {
  await db.execute(sql`update email_outbox set status = 'sent', sent_at = now(), message_id = ${messageId}, lease_until = null, last_error = null where id = ${id} and status = 'sending'`);
}

/** A temporary refusal: tried again at `retryAt`, or, out of tries, left failed. */
export async function markEmailRetry(db: Db, id: number, error: string, retryAt: Date | null): Promise<void> {
  await db.execute(sql`
    update email_outbox set status = ${retryAt ? 'pending' : 'failed'}, next_attempt_at = coalesce(${retryAt?.toISOString() ?? null}::timestamptz, next_attempt_at),
      last_error = ${error.slice(0, 500)}, lease_until = null
    where id = ${id} and status = 'sending'`);
}

/** The mail server refused the address for good. */
export async function markEmailBounced(db: Db, id: number, error: string): Promise<void> {
  await db.execute(sql`update email_outbox set status = 'bounced', last_error = ${error.slice(0, 500)}, lease_until = null where id = ${id} and status = 'sending'`);
}

/** Without a mail server nothing can be sent: due e-mail is marked so, and the administrators' page says why. */
export async function skipDueEmail(db: Db, why: string): Promise<number> {
  const rows = await db.execute(sql`
    update email_outbox set status = 'skipped', last_error = ${why} where status = 'pending' and next_attempt_at <= now() returning id`);
  return rows.rows.length;
}

export interface DigestOwner {
  userId: number;
  platformId: number;
  toAddress: string;
  frequency: 'immediately' | 'daily' | 'weekly' | 'never';
}

/**
 * People with e-mail held for a digest whose digest is due: daily ones a day after their last digest (or their
 * oldest held e-mail), weekly ones a week after. Also those whose preference has since changed (immediately:
 * released; never: dropped).
 */
export async function dueDigestOwners(db: Db, now: Date): Promise<DigestOwner[]> {
  const rows = await db.execute<{ user_id: number; platform_id: number; email: string; frequency: DigestOwner['frequency'] }>(sql`
    with held as (select user_id, min(created_at) as oldest from email_outbox where status = 'held' group by user_id)
    select h.user_id, u.platform_id, u.email, coalesce(p.email_frequency, 'immediately') as frequency
    from held h join users u on u.id = h.user_id left join notification_preferences p on p.user_id = h.user_id
    where coalesce(p.email_frequency, 'immediately') in ('immediately', 'never')
       or coalesce(u.email, '') = ''
       or greatest(h.oldest, coalesce((select max(sent_at) from email_outbox d where d.user_id = h.user_id and d.kind = 'digest'), h.oldest))
          <= ${now.toISOString()}::timestamptz - case p.email_frequency when 'weekly' then interval '7 days' else interval '1 day' end`);
  return rows.rows.map((r) => ({ userId: Number(r.user_id), platformId: Number(r.platform_id), toAddress: r.email ?? '', frequency: r.frequency }));
}

/** Releases (immediately) or drops (never, no address) a person's held e-mail. */
export async function settleHeldEmail(db: Db, userId: number, status: Extract<EmailStatus, 'pending' | 'skipped'>, why: string | null): Promise<number> {
  const rows = await db.execute(sql`update email_outbox set status = ${status}, last_error = ${why}, next_attempt_at = now() where user_id = ${userId} and status = 'held' returning id`);
  return rows.rows.length;
}

/** A person's held e-mail, oldest first, locked so two digest runs never take the same ones. */
export async function takeHeldEmail(db: Db, userId: number): Promise<Array<{ id: number; subject: string; body: string; lmsUrl: string | null; createdAt: Date }>> {
  const rows = await db.execute<{ id: number; subject: string; body: string; lms_url: string | null; created_at: Date }>(sql`
    select id, subject, body, lms_url, created_at from email_outbox where user_id = ${userId} and status = 'held' order by created_at, id for update skip locked`);
  return rows.rows.map((r) => ({ id: Number(r.id), subject: r.subject, body: r.body, lmsUrl: r.lms_url, createdAt: new Date(r.created_at) }));
}

/** Writes the digest e-mail (pending) and marks what it holds merged into it. */
export async function insertDigest(db: Db, owner: DigestOwner, digest: { subject: string; body: string; lmsUrl: string | null }, mergedIds: number[]): Promise<number> {
  const rows = await db.execute<{ id: number }>(sql`
    insert into email_outbox (platform_id, user_id, kind, to_address, subject, body, lms_url, status)
    values (${owner.platformId}, ${owner.userId}, 'digest', ${owner.toAddress}, ${digest.subject}, ${digest.body}, ${digest.lmsUrl}, 'pending') returning id`);
  const id = Number(rows.rows[0]!.id);
  await db.execute(sql`update email_outbox set status = 'merged', merged_into = ${id} where id = any(${sql.param(mergedIds)}::bigint[])`);
  return id;
}

export interface OutboxSummary {
  byStatus: Record<string, number>;
  problems: Array<{ id: number; toAddress: string; subject: string; status: string; attempts: number; lastError: string | null; at: Date }>;
}

/** A platform's e-mail of the last `days` days, by status, and the latest that failed, bounced or were skipped. */
export async function outboxSummary(db: Db, platformId: number, days: number, limit = 50): Promise<OutboxSummary> {
  const counts = await db.execute<{ status: string; n: number }>(sql`
    select status, count(*)::int as n from email_outbox where platform_id = ${platformId} and created_at > now() - ${days} * interval '1 day' group by status`);
  const problems = await db.execute<{ id: number; to_address: string; subject: string; status: string; attempts: number; last_error: string | null; created_at: Date }>(sql`
    select id, to_address, subject, status, attempts, last_error, created_at from email_outbox
    where platform_id = ${platformId} and (status in ('failed', 'bounced', 'skipped') or (status = 'pending' and attempts > 0))
    order by created_at desc, id desc limit ${limit}`);
  return {
    byStatus: Object.fromEntries(counts.rows.map((r) => [r.status, r.n])),
    problems: problems.rows.map((r) => ({ id: Number(r.id), toAddress: r.to_address, subject: r.subject, status: r.status, attempts: r.attempts, lastError: r.last_error, at: new Date(r.created_at) })),
  };
}

/** How many of the platform's people the LMS gave an e-mail address, per role they hold (administrators apart). */
export async function addressCoverage(db: Db, platformId: number): Promise<Array<{ role: string; people: number; withAddress: number }>> {
  const rows = await db.execute<{ role: string; people: number; with_address: number }>(sql`
    with roles as (
      select distinct m.role, u.id, u.email from memberships m join users u on u.id = m.user_id join courses c on c.id = m.course_id
      where c.platform_id = ${platformId} and m.active and u.erased_at is null and m.role in ('student', 'instructor')
      union
      select distinct 'administrator', u.id, u.email from users u where u.platform_id = ${platformId} and u.administrator_at is not null and u.erased_at is null)
    select role, count(*)::int as people, count(*) filter (where coalesce(email, '') <> '')::int as with_address from roles group by role order by role`);
  return rows.rows.map((r) => ({ role: r.role, people: r.people, withAddress: r.with_address }));
}
