import { sql } from 'drizzle-orm';
import type { Db } from '../../db/db.js';

/** Where a course's roster comes from: the registration (client) that named its roster service, and the service. */
export interface RosterSource {
  courseId: number;
  platformId: number;
  issuer: string;
  clientId: string;
  membershipsUrl: string | null;
  rosterSyncedAt: Date | null;
}

export async function findRosterSource(db: Db, courseId: number): Promise<RosterSource | undefined> {
  const rows = await db.execute<{ course_id: number; platform_id: number; issuer: string; client_id: string; memberships_url: string | null; roster_synced_at: Date | null }>(sql`
    select c.id as course_id, c.platform_id, p.issuer, p.client_id, c.memberships_url, c.roster_synced_at
    from courses c join lti_platforms p on p.id = coalesce(c.roster_registration_id, c.platform_id) where c.id = ${courseId}`);
  const r = rows.rows[0];
  return r && { courseId: Number(r.course_id), platformId: Number(r.platform_id), issuer: r.issuer, clientId: r.client_id, membershipsUrl: r.memberships_url, rosterSyncedAt: r.roster_synced_at ? new Date(r.roster_synced_at) : null };
}

/** A roster member as stored: the person, and their course role (only members with one are kept). */
export interface RosterEntry {
  sub: string;
  role: 'instructor' | 'student';
  active: boolean;
  name: string | null;
  givenName: string | null;
  familyName: string | null;
  email: string | null;
}

/**
 * Writes a course's roster in one statement per table: the people (names kept when the LMS stops sharing them, as
 * launches do), their memberships with the roster's role and status, and every other student or instructor
 * membership of the course marked inactive (the LMS no longer lists them). Administrators' memberships, which
 * come from launches only, are left alone. Returns how many memberships are active now.
 */
export async function applyRoster(db: Db, source: Pick<RosterSource, 'courseId' | 'platformId'>, entries: RosterEntry[]): Promise<{ active: number; inactive: number }> {
  const col = <K extends keyof RosterEntry>(k: K) => sql.param(entries.map((e) => e[k]));
  await db.execute(sql`
    insert into users (platform_id, sub, name, given_name, family_name, email)
    select ${source.platformId}, * from unnest(${col('sub')}::text[], ${col('name')}::text[], ${col('givenName')}::text[], ${col('familyName')}::text[], ${col('email')}::text[])
    on conflict (platform_id, sub) do update set
      name = coalesce(excluded.name, users.name), given_name = coalesce(excluded.given_name, users.given_name),
      family_name = coalesce(excluded.family_name, users.family_name), email = coalesce(excluded.email, users.email), updated_at = now()`);
  await db.execute(sql`
    insert into memberships (course_id, user_id, role, active)
    select ${source.courseId}, u.id, r.role, r.active
    from unnest(${col('sub')}::text[], ${col('role')}::text[], ${col('active')}::boolean[]) as r(sub, role, active)
    join users u on u.platform_id = ${source.platformId} and u.sub = r.sub
    on conflict (course_id, user_id) do update set role = excluded.role, active = excluded.active, updated_at = now()`);
  await db.execute(sql`
    update memberships m set active = false, updated_at = now()
    from users u
    where m.course_id = ${source.courseId} and u.id = m.user_id and m.role in ('student', 'instructor') and m.active
      and not (u.sub = any(${col('sub')}::text[]))`);
  await db.execute(sql`update courses set roster_synced_at = now(), updated_at = now() where id = ${source.courseId}`);
  const counts = await db.execute<{ active: number; inactive: number }>(sql`
    select count(*) filter (where active)::int as active, count(*) filter (where not active)::int as inactive from memberships where course_id = ${source.courseId}`);
  return counts.rows[0]!;
}

/** The course's active students who have not submitted this task, by name. */
export async function studentsWithoutSubmission(db: Db, courseId: number, taskId: number): Promise<Array<{ id: number; name: string }>> {
  const rows = await db.execute<{ id: number; name: string | null; sub: string }>(sql`
    select u.id, u.name, u.sub from memberships m join users u on u.id = m.user_id
    where m.course_id = ${courseId} and m.role = 'student' and m.active
      and not exists (select 1 from submissions s where s.task_id = ${taskId} and s.student_id = u.id)
    order by lower(coalesce(u.family_name, u.name, u.sub)), u.id`);
  return rows.rows.map((r) => ({ id: Number(r.id), name: r.name || `Student ${r.sub.slice(0, 8)}` }));
}

/** A course member as anonymization needs them: whose names, e-mail and LMS id must not leave. */
export interface CourseMember {
  courseId: number;
  userId: number;
  sub: string;
  name: string | null;
  givenName: string | null;
  familyName: string | null;
  email: string | null;
}

/**
 * Everyone these courses know, from launches and the roster (NRPS), whatever their role and whether the LMS still
 * lists them (a classmate who left is still named in texts), in a fixed order: numbered placeholders depend on it.
 */
export async function courseMembers(db: Db, courseIds: number[]): Promise<CourseMember[]> {
  if (!courseIds.length) return [];
  const rows = await db.execute<{ course_id: number; user_id: number; sub: string; name: string | null; given_name: string | null; family_name: string | null; email: string | null }>(sql`
    select m.course_id, u.id as user_id, u.sub, u.name, u.given_name, u.family_name, u.email
    from memberships m join users u on u.id = m.user_id
    where m.course_id = any(${sql.param(courseIds)}::bigint[])
    order by m.course_id, u.id`);
  return rows.rows.map((r) => ({ courseId: Number(r.course_id), userId: Number(r.user_id), sub: r.sub, name: r.name, givenName: r.given_name, familyName: r.family_name, email: r.email }));
}

/** The course of each of these tasks. */
export async function coursesOfTasks(db: Db, taskIds: number[]): Promise<Map<number, number>> {
  if (!taskIds.length) return new Map();
  const rows = await db.execute<{ id: number; course_id: number }>(sql`select id, course_id from tasks where id = any(${sql.param(taskIds)}::bigint[])`);
  return new Map(rows.rows.map((r) => [Number(r.id), Number(r.course_id)]));
}
