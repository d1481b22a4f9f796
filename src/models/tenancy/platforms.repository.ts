import { and, asc, eq, sql } from 'drizzle-orm';
import type { Db } from '../../db/db.js';
import { ltiDeployments, ltiPlatforms } from './tenancy.table.js';

export type PlatformRow = typeof ltiPlatforms.$inferSelect;

export async function findPlatform(db: Db, issuer: string, clientId: string): Promise<PlatformRow | undefined> {
  const [row] = await db.select().from(ltiPlatforms).where(and(eq(ltiPlatforms.issuer, issuer), eq(ltiPlatforms.clientId, clientId)));
  return row;
}

export async function findPlatformsByIssuer(db: Db, issuer: string): Promise<PlatformRow[]> {
  return db.select().from(ltiPlatforms).where(eq(ltiPlatforms.issuer, issuer));
}

export async function findPlatformById(db: Db, id: number): Promise<PlatformRow | undefined> {
  const [row] = await db.select().from(ltiPlatforms).where(eq(ltiPlatforms.id, id));
  return row;
}

export async function listPlatforms(db: Db): Promise<PlatformRow[]> {
  return db.select().from(ltiPlatforms).orderBy(asc(ltiPlatforms.id));
}

export async function upsertPlatform(
  db: Db,
  values: { issuer: string; clientId: string; name: string; ltijsPlatformId: string },
): Promise<PlatformRow> {
  const [row] = await db
    .insert(ltiPlatforms)
    .values(values)
    .onConflictDoUpdate({
      target: [ltiPlatforms.issuer, ltiPlatforms.clientId],
      set: { name: values.name, ltijsPlatformId: values.ltijsPlatformId, updatedAt: sql`now()` },
    })
    .returning();
  return row!;
}

/** Serialises registrations of one issuer until the caller's transaction ends. */
export async function lockIssuer(db: Db, issuer: string): Promise<void> {
  await db.execute(sql`select pg_advisory_xact_lock(hashtextextended(${`lti-registration:${issuer}`}, 0))`);
}

/** The registrations joined to a platform (other clients of its LMS), oldest first. */
export async function listJoinedRegistrations(db: Db, platformId: number): Promise<PlatformRow[]> {
  return db.select().from(ltiPlatforms).where(eq(ltiPlatforms.joinedPlatformId, platformId)).orderBy(asc(ltiPlatforms.id));
}

/** Makes a registration another client of a platform (same issuer, checked by the caller). */
export async function joinRegistration(db: Db, registrationId: number, platformId: number): Promise<void> {
  await db.update(ltiPlatforms).set({ joinedPlatformId: platformId, updatedAt: sql`now()` }).where(eq(ltiPlatforms.id, registrationId));
}

export async function setPlatformActive(db: Db, id: number, active: boolean): Promise<void> {
  await db.update(ltiPlatforms).set({ active, updatedAt: sql`now()` }).where(eq(ltiPlatforms.id, id));
}

export async function listDeployments(db: Db, platformId: number): Promise<string[]> {
  const rows = await db
    .select({ deploymentId: ltiDeployments.deploymentId })
    .from(ltiDeployments)
    .where(eq(ltiDeployments.platformId, platformId))
    .orderBy(asc(ltiDeployments.deploymentId));
  return rows.map((r) => r.deploymentId);
}

export async function listDeploymentRows(db: Db, platformId: number): Promise<Array<{ deploymentId: string; coursesOf: string | null }>> {
  return db
    .select({ deploymentId: ltiDeployments.deploymentId, coursesOf: ltiDeployments.coursesOf })
    .from(ltiDeployments)
    .where(eq(ltiDeployments.platformId, platformId))
    .orderBy(asc(ltiDeployments.id));
}

/** Adds a deployment to the allowlist; true when it was new. `coursesOf`: see `ltiDeployments.coursesOf`. */
export async function addDeployment(db: Db, platformId: number, deploymentId: string, options: { label?: string; coursesOf?: string | null } = {}): Promise<boolean> {
  const rows = await db
    .insert(ltiDeployments)
    .values({ platformId, deploymentId, label: options.label, coursesOf: options.coursesOf ?? null })
    .onConflictDoNothing()
    .returning({ id: ltiDeployments.id });
  return rows.length > 0;
}

export async function removeDeployment(db: Db, platformId: number, deploymentId: string): Promise<boolean> {
  const rows = await db
    .delete(ltiDeployments)
    .where(and(eq(ltiDeployments.platformId, platformId), eq(ltiDeployments.deploymentId, deploymentId)))
    .returning({ id: ltiDeployments.id });
  return rows.length > 0;
}

/** What the administrator's overview counts of their platform. */
export async function platformCounts(db: Db, platformId: number): Promise<{ courses: number; tasks: number; queued: number; batches: number }> {
  const rows = await db.execute<{ courses: number; tasks: number; queued: number; batches: number }>(sql`
    select (select count(*)::int from courses where platform_id = ${platformId}) as courses,
           (select count(*)::int from tasks t join courses c on c.id = t.course_id where c.platform_id = ${platformId}) as tasks,
           (select count(*)::int from queue_items where platform_id = ${platformId} and status = 'queued') as queued,
           (select count(*)::int from batches where platform_id = ${platformId}) as batches`);
  return rows.rows[0]!;
}
