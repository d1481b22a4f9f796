import { sql } from 'drizzle-orm';
import type { Db } from '../../db/db.js';
import { likeLiteral } from '../like.js';
import type { PersonRequestStatus } from './privacy.table.js';
import { releasedToStudentSql } from '../assessments/release.js';

export interface PersonRow {
  id: number;
  platformId: number;
  issuer: string;
  sub: string;
  name: string | null;
  givenName: string | null;
  familyName: string | null;
  email: string | null;
  lastLaunchAt: Date | null;
  erasedAt: Date | null;
}

const PERSON_COLUMNS = sql`u.id, u.platform_id, p.issuer, u.sub, u.name, u.given_name, u.family_name, u.email, u.last_launch_at, u.erased_at`;
type PersonDbRow = { id: string; platform_id: string; issuer: string; sub: string; name: string | null; given_name: string | null; family_name: string | null; email: string | null; last_launch_at: Date | null; erased_at: Date | null };
const toPerson = (r: PersonDbRow): PersonRow => ({
  id: Number(r.id), platformId: Number(r.platform_id), issuer: r.issuer, sub: r.sub, name: r.name, givenName: r.given_name, familyName: r.family_name,
  email: r.email, lastLaunchAt: r.last_launch_at ? new Date(r.last_launch_at) : null, erasedAt: r.erased_at ? new Date(r.erased_at) : null,
});

/** A person of the platform (null for anyone else's). */
export async function findPerson(db: Db, platformId: number, userId: number): Promise<PersonRow | null> {
  const rows = await db.execute<PersonDbRow>(sql`select ${PERSON_COLUMNS} from users u join lti_platforms p on p.id = u.platform_id where u.id = ${userId} and u.platform_id = ${platformId}`);
  return rows.rows[0] ? toPerson(rows.rows[0]) : null;
}

/** People of the platform whose name or e-mail contains `q`, or whose LMS id is `q`. */
export async function searchPeople(db: Db, platformId: number, q: string, limit = 50): Promise<PersonRow[]> {
  const like = `%${likeLiteral(q)}%`;
  const rows = await db.execute<PersonDbRow>(sql`
    select ${PERSON_COLUMNS} from users u join lti_platforms p on p.id = u.platform_id
    where u.platform_id = ${platformId} and (u.name ilike ${like} or u.email ilike ${like} or u.sub = ${q})
    order by u.name nulls last, u.id limit ${limit}`);
  return rows.rows.map(toPerson);
}

/** Everything stored about a person that an export shows (submission content still encrypted: the service reads it). */
export async function personRecords(db: Db, userId: number) {
  const [memberships, submissions, assessments, queue, audit, requests] = await Promise.all([
    db.execute<{ course_id: string; course: string; role: string; lti_roles: string[]; active: boolean }>(sql`
      select m.course_id, c.title as course, m.role, m.lti_roles, m.active from memberships m join courses c on c.id = m.course_id where m.user_id = ${userId} order by m.course_id`),
    db.execute<{ id: string; task_id: string; task: string; course: string; attempt: number; content: Buffer | null; content_format: string; original_filename: string | null; char_count: number; created_at: Date; purged_at: Date | null }>(sql`
      select s.id, s.task_id, t.title as task, c.title as course, s.attempt, s.content, s.content_format, s.original_filename, s.char_count, s.created_at, s.purged_at
      from submissions s join tasks t on t.id = s.task_id join courses c on c.id = s.course_id where s.student_id = ${userId} order by s.id`),
    db.execute<{ id: string; submission_id: string; queue_item_id: string; score: string | null; max_score: string; review_status: string; override_score: string | null; override_feedback: string | null; override_reason: string | null; result: Record<string, unknown> | null; reviewed_at: Date | null; released_at: Date | null; grade_sync_status: string; released: boolean }>(sql`
      select a.id, a.submission_id, a.queue_item_id, a.score, a.max_score, a.review_status, a.override_score, a.override_feedback, a.override_reason, a.result, a.reviewed_at, a.released_at, a.grade_sync_status,
             ${releasedToStudentSql('a', 't')} as released
      from assessments a join submissions s on s.id = a.submission_id join tasks t on t.id = a.task_id where s.student_id = ${userId} order by a.id`),
    db.execute<{ id: string; submission_id: string; status: string; created_at: Date }>(sql`
      select q.id, q.submission_id, q.status, q.created_at from queue_items q join submissions s on s.id = q.submission_id where s.student_id = ${userId} order by q.id`),
    db.execute<{ id: string; action: string; entity_type: string; entity_id: string | null; created_at: Date }>(sql`
      select id, action, entity_type, entity_id, created_at from audit_log where actor_id = ${userId} order by id limit 10000`),
    db.execute<{ id: string; source: string; status: string; created_at: Date; completed_at: Date | null }>(sql`
      select id, source, status, created_at, completed_at from person_requests where user_id = ${userId} order by id`),
  ]);
  return { memberships: memberships.rows, submissions: submissions.rows, assessments: assessments.rows, queue: queue.rows, audit: audit.rows, requests: requests.rows };
}

export interface PersonRequestRow {
  id: number;
  platformId: number;
  userId: number;
  source: string;
  status: PersonRequestStatus;
  createdAt: Date;
  completedAt: Date | null;
  result: Record<string, number> | null;
  personName: string | null;
}

/** The platform's deletion requests, open ones first. */
export async function listPersonRequests(db: Db, platformId: number, limit = 50): Promise<PersonRequestRow[]> {
  const rows = await db.execute<{ id: string; platform_id: string; user_id: string; source: string; status: PersonRequestStatus; created_at: Date; completed_at: Date | null; result: Record<string, number> | null; name: string | null }>(sql`
    select r.id, r.platform_id, r.user_id, r.source, r.status, r.created_at, r.completed_at, r.result, u.name
    from person_requests r join users u on u.id = r.user_id where r.platform_id = ${platformId}
    order by (r.status in ('requested', 'scheduled')) desc, r.id desc limit ${limit}`);
  return rows.rows.map((r) => ({ id: Number(r.id), platformId: Number(r.platform_id), userId: Number(r.user_id), source: r.source, status: r.status, createdAt: new Date(r.created_at), completedAt: r.completed_at ? new Date(r.completed_at) : null, result: r.result, personName: r.name }));
}

/** The person's open request (requested or scheduled), if any. */
export async function findOpenRequest(db: Db, userId: number): Promise<{ id: number; status: PersonRequestStatus } | null> {
  const rows = await db.execute<{ id: string; status: PersonRequestStatus }>(sql`select id, status from person_requests where user_id = ${userId} and status in ('requested', 'scheduled') order by id limit 1`);
  return rows.rows[0] ? { id: Number(rows.rows[0].id), status: rows.rows[0].status } : null;
}

export async function insertPersonRequest(db: Db, v: { platformId: number; userId: number; source: 'student' | 'administrator' | 'api' | 'cli'; requestedBy: number | null; status: 'requested' | 'scheduled'; decidedBy: number | null }): Promise<number> {
  const rows = await db.execute<{ id: string }>(sql`
    insert into person_requests (platform_id, user_id, source, requested_by, status, decided_by)
    values (${v.platformId}, ${v.userId}, ${v.source}, ${v.requestedBy}, ${v.status}, ${v.decidedBy}) returning id`);
  return Number(rows.rows[0]!.id);
}

/** An administrator's decision on a student's request; false when it was no longer waiting for one. */
export async function decidePersonRequest(db: Db, id: number, platformId: number, status: 'scheduled' | 'declined', decidedBy: number): Promise<boolean> {
  const rows = await db.execute(sql`
    update person_requests set status = ${status}, decided_by = ${decidedBy}, completed_at = case when ${status} = 'declined' then now() else null end
    where id = ${id} and platform_id = ${platformId} and status = 'requested'`);
  return (rows.rowCount ?? 0) > 0;
}

/** The next scheduled erasure after `afterId`, locked for the caller's transaction (another run skips it). */
export async function lockNextScheduledErasure(db: Db, afterId: number): Promise<{ id: number; platformId: number; userId: number } | null> {
  const rows = await db.execute<{ id: string; platform_id: string; user_id: string }>(sql`
    select id, platform_id, user_id from person_requests where status = 'scheduled' and id > ${afterId} order by id limit 1 for update skip locked`);
  const r = rows.rows[0];
  return r ? { id: Number(r.id), platformId: Number(r.platform_id), userId: Number(r.user_id) } : null;
}

export async function completePersonRequest(db: Db, id: number, result: Record<string, number>): Promise<void> {
  await db.execute(sql`update person_requests set status = 'completed', completed_at = now(), result = ${JSON.stringify(result)}::jsonb where id = ${id}`);
}

/** Their submissions still with a provider or in a batch about to go there: erased once those batches end. */
export async function countInFlight(db: Db, userId: number): Promise<number> {
  const rows = await db.execute<{ n: number }>(sql`
    select count(*)::int as n from queue_items q join submissions s on s.id = q.submission_id where s.student_id = ${userId} and q.status in ('selected', 'processing')`);
  return rows.rows[0]!.n;
}

export async function submissionIdsOf(db: Db, userId: number): Promise<number[]> {
  const rows = await db.execute<{ id: string }>(sql`select id from submissions where student_id = ${userId}`);
  return rows.rows.map((r) => Number(r.id));
}

/**
 * The person becomes a nameless row: no name, e-mail or LMS id (a later launch is a new person), no memberships,
 * no notices, no LMS session (ltijs' tokens hold their name). Their scores, decisions and audit entries keep
 * pointing at the row, so aggregates and the audit chain stay whole.
 */
export async function anonymizePerson(db: Db, person: { id: number; issuer: string; sub: string }): Promise<{ memberships: number }> {
  // ltijs makes its tables when the tool first starts: a database only the CLI has seen has none.
  const ltijs = await db.execute<{ ready: boolean }>(sql`select to_regclass('public.idtokens') is not null and to_regclass('public.contexttokens') is not null as ready`);
  if (ltijs.rows[0]?.ready) {
    await db.execute(sql`delete from idtokens where iss = ${person.issuer} and "user" = ${person.sub}`);
    // Context tokens carry no issuer; an LMS id is unique within its LMS and in practice across them.
    await db.execute(sql`delete from contexttokens where "user" = ${person.sub}`);
  }
  // Their e-mail (an address and notice texts), digests and administrators' notices included, and their choices.
  await db.execute(sql`delete from email_outbox where user_id = ${person.id}`);
  await db.execute(sql`delete from notification_preferences where user_id = ${person.id}`);
  await db.execute(sql`delete from notifications where user_id = ${person.id}`);
  const memberships = await db.execute(sql`delete from memberships where user_id = ${person.id}`);
  await db.execute(sql`
    update users set name = null, given_name = null, family_name = null, email = null, sub = ${`erased:${person.id}`}, erased_at = now(), updated_at = now()
    where id = ${person.id}`);
  return { memberships: memberships.rowCount ?? 0 };
}

/** A person by their LMS user id on a platform (the CLI names people as the LMS does). */
export async function findPersonBySub(db: Db, platformId: number, sub: string): Promise<PersonRow | null> {
  const rows = await db.execute<PersonDbRow>(sql`select ${PERSON_COLUMNS} from users u join lti_platforms p on p.id = u.platform_id where u.platform_id = ${platformId} and u.sub = ${sub}`);
  return rows.rows[0] ? toPerson(rows.rows[0]) : null;
}
