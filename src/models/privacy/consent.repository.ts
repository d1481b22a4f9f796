import { sql } from 'drizzle-orm';
import type { Db } from '../../db/db.js';

export interface StandingConsent {
  id: number;
  wordingVersion: number;
  givenAt: Date;
}

export async function findStandingConsent(db: Db, courseId: number, userId: number): Promise<StandingConsent | null> {
  const rows = await db.execute<{ id: string; wording_version: number; created_at: Date }>(sql`
    select id, wording_version, created_at from consent_records where course_id = ${courseId} and user_id = ${userId} and withdrawn_at is null`);
  const r = rows.rows[0];
  return r ? { id: Number(r.id), wordingVersion: r.wording_version, givenAt: new Date(r.created_at) } : null;
}

/** Records consent to `version`; a standing consent to an older wording is withdrawn first (replaced). */
export async function recordConsent(db: Db, courseId: number, userId: number, version: number): Promise<void> {
  await db.execute(sql`update consent_records set withdrawn_at = now() where course_id = ${courseId} and user_id = ${userId} and withdrawn_at is null and wording_version <> ${version}`);
  await db.execute(sql`insert into consent_records (course_id, user_id, wording_version) values (${courseId}, ${userId}, ${version}) on conflict do nothing`);
}

/** Withdraws the standing consent; false when there was none. */
export async function withdrawConsent(db: Db, courseId: number, userId: number): Promise<boolean> {
  const rows = await db.execute(sql`update consent_records set withdrawn_at = now() where course_id = ${courseId} and user_id = ${userId} and withdrawn_at is null`);
  return (rows.rowCount ?? 0) > 0;
}

export interface ConsentLine {
  userId: number;
  name: string | null;
  sub: string;
  wordingVersion: number | null;
  givenAt: Date | null;
  withdrawnAt: Date | null;
}

/** The course's students with their consent: standing, withdrawn (the last), or none. */
export async function listCourseConsent(db: Db, courseId: number): Promise<ConsentLine[]> {
  const rows = await db.execute<{ user_id: string; name: string | null; sub: string; wording_version: number | null; created_at: Date | null; withdrawn_at: Date | null }>(sql`
    select u.id as user_id, u.name, u.sub, c.wording_version, c.created_at, c.withdrawn_at
    from memberships m join users u on u.id = m.user_id
    left join lateral (
      select wording_version, created_at, withdrawn_at from consent_records r
      where r.course_id = m.course_id and r.user_id = m.user_id order by (r.withdrawn_at is null) desc, r.id desc limit 1
    ) c on true
    where m.course_id = ${courseId} and m.role = 'student' and m.active
    order by (c.created_at is not null and c.withdrawn_at is null), u.name nulls last, u.id`);
  return rows.rows.map((r) => ({ userId: Number(r.user_id), name: r.name, sub: r.sub, wordingVersion: r.wording_version, givenAt: r.created_at ? new Date(r.created_at) : null, withdrawnAt: r.withdrawn_at ? new Date(r.withdrawn_at) : null }));
}

/** The student's consent records in every course, newest first (their My data page). */
export async function listConsentOf(db: Db, userId: number): Promise<Array<{ courseId: number; course: string; wordingVersion: number; givenAt: Date; withdrawnAt: Date | null }>> {
  const rows = await db.execute<{ course_id: string; course: string; wording_version: number; created_at: Date; withdrawn_at: Date | null }>(sql`
    select r.course_id, c.title as course, r.wording_version, r.created_at, r.withdrawn_at from consent_records r join courses c on c.id = r.course_id
    where r.user_id = ${userId} order by r.id desc`);
  return rows.rows.map((r) => ({ courseId: Number(r.course_id), course: r.course, wordingVersion: r.wording_version, givenAt: new Date(r.created_at), withdrawnAt: r.withdrawn_at ? new Date(r.withdrawn_at) : null }));
}
