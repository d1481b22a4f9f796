import { and, eq, sql } from 'drizzle-orm';
import type { Db } from '../../db/db.js';
import type { Identity } from '../../grading/anonymize.js';
import { courses, memberships, users, type Role } from './tenancy.table.js';

export type CourseRow = typeof courses.$inferSelect;
export type UserRow = typeof users.$inferSelect;

export async function upsertCourse(
  db: Db,
  v: { platformId: number; deploymentId: string; contextId: string; title: string; label: string; membershipsUrl?: string | null; rosterRegistrationId?: number | null; lmsUrl?: string | null },
): Promise<CourseRow> {
  const [row] = await db
    .insert(courses)
    .values(v)
    .onConflictDoUpdate({
      target: [courses.platformId, courses.deploymentId, courses.contextId],
      // A launch without the roster claim (a placement that omits it) keeps the service another launch named.
      // The roster URL and the client that may read it change together.
      set: {
        title: v.title,
        label: v.label,
        membershipsUrl: sql`coalesce(excluded.memberships_url, ${courses.membershipsUrl})`,
        rosterRegistrationId: sql`case when excluded.memberships_url is null then ${courses.rosterRegistrationId} else excluded.roster_registration_id end`,
        lmsUrl: sql`coalesce(excluded.lms_url, ${courses.lmsUrl})`,
        updatedAt: sql`now()`,
      },
    })
    .returning();
  return row!;
}

export async function upsertUser(
  db: Db,
  v: { platformId: number; sub: string; name: string | null; givenName: string | null; familyName: string | null; email: string | null; administrator?: boolean },
): Promise<UserRow> {
  const { administrator, ...person } = v;
  const [row] = await db
    .insert(users)
    .values({ ...person, lastLaunchAt: sql`now()`, administratorAt: administrator ? sql`now()` : null })
    .onConflictDoUpdate({
      target: [users.platformId, users.sub],
      // A platform that stops sharing a name (privacy level changed) should not erase the one we had.
      set: {
        name: sql`coalesce(excluded.name, ${users.name})`,
        givenName: sql`coalesce(excluded.given_name, ${users.givenName})`,
        familyName: sql`coalesce(excluded.family_name, ${users.familyName})`,
        email: sql`coalesce(excluded.email, ${users.email})`,
        lastLaunchAt: sql`now()`,
        administratorAt: sql`coalesce(excluded.administrator_at, ${users.administratorAt})`,
        updatedAt: sql`now()`,
      },
    })
    .returning();
  return row!;
}

export async function upsertMembership(db: Db, v: { courseId: number; userId: number; role: Role; ltiRoles: string[] }): Promise<void> {
  await db
    .insert(memberships)
    .values(v)
    .onConflictDoUpdate({
      target: [memberships.courseId, memberships.userId],
      // Someone who launches is in the course, whatever an older roster said.
      set: { role: v.role, ltiRoles: v.ltiRoles, active: true, updatedAt: sql`now()` },
    });
}

export async function findCourse(db: Db, platformId: number, deploymentId: string, contextId: string): Promise<CourseRow | undefined> {
  const [row] = await db
    .select()
    .from(courses)
    .where(and(eq(courses.platformId, platformId), eq(courses.deploymentId, deploymentId), eq(courses.contextId, contextId)));
  return row;
}

/** The student's identity, for anonymization: what they might have typed about themselves. */
export async function findIdentity(db: Db, userId: number): Promise<Identity> {
  const [row] = await db.select({ name: users.name, givenName: users.givenName, familyName: users.familyName, email: users.email }).from(users).where(eq(users.id, userId));
  return row ?? {};
}

/** The ids a session needs on every request, in one round trip: the person's, and the course's when there is one. */
export async function findSessionIds(
  db: Db,
  k: { platformId: number; sub: string; deploymentId: string; contextId: string },
): Promise<{ course_id: number | null; course_title: string | null; user_id: number | null } | undefined> {
  const rows = await db.execute<{ course_id: number | null; course_title: string | null; user_id: number | null }>(sql`
    select c.id as course_id, c.title as course_title,
           (select id from users where platform_id = ${k.platformId} and sub = ${k.sub}) as user_id
    from (select 1) one
    left join courses c on c.platform_id = ${k.platformId} and c.deployment_id = ${k.deploymentId} and c.context_id = ${k.contextId}`);
  return rows.rows[0];
}
