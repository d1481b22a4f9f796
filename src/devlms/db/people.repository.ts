import type { Queryable } from './queryable.js';

export interface Course {
  contextId: string;
  label: string;
  title: string;
}

export interface Person {
  login: string;
  sub: string;
  name: string;
  givenName: string;
  familyName: string;
  email: string;
  institutionRoles: string[];
}

export interface Member extends Person {
  /** Context (course) roles, full LIS URIs. */
  roles: string[];
  status: 'Active' | 'Inactive';
}

interface PersonRow {
  login: string;
  sub: string;
  name: string;
  given_name: string;
  family_name: string;
  email: string;
  institution_roles: string[];
}

const PERSON_COLUMNS = 'u.login, u.sub, u.name, u.given_name, u.family_name, u.email, u.institution_roles';

function toPerson(r: PersonRow): Person {
  return {
    login: r.login,
    sub: r.sub,
    name: r.name,
    givenName: r.given_name,
    familyName: r.family_name,
    email: r.email,
    institutionRoles: r.institution_roles,
  };
}

export async function findCourse(q: Queryable, contextId: string): Promise<Course | null> {
  const res = await q.query<{ context_id: string; label: string; title: string }>(
    'select context_id, label, title from devlms.courses where context_id = $1',
    [contextId],
  );
  const r = res.rows[0];
  return r ? { contextId: r.context_id, label: r.label, title: r.title } : null;
}

/** The course the pages show (the dev LMS has one; more can exist in the tables). */
export async function firstCourse(q: Queryable): Promise<Course | null> {
  const res = await q.query<{ context_id: string; label: string; title: string }>(
    'select context_id, label, title from devlms.courses order by context_id limit 1',
  );
  const r = res.rows[0];
  return r ? { contextId: r.context_id, label: r.label, title: r.title } : null;
}

export async function findPerson(q: Queryable, login: string): Promise<Person | null> {
  const res = await q.query<PersonRow>(`select ${PERSON_COLUMNS} from devlms.users u where u.login = $1`, [login]);
  return res.rows[0] ? toPerson(res.rows[0]) : null;
}

export async function listPeople(q: Queryable): Promise<Person[]> {
  const res = await q.query<PersonRow>(`select ${PERSON_COLUMNS} from devlms.users u order by u.position, u.login`);
  return res.rows.map(toPerson);
}

/** The person's roles in the course, or null when they are not a member. */
export async function findMembershipRoles(q: Queryable, contextId: string, login: string): Promise<string[] | null> {
  const res = await q.query<{ roles: string[] }>(
    "select roles from devlms.memberships where context_id = $1 and login = $2 and status = 'Active'",
    [contextId, login],
  );
  return res.rows[0]?.roles ?? null;
}

export async function findActiveMemberBySub(q: Queryable, contextId: string, sub: string): Promise<Member | null> {
  const res = await q.query<PersonRow & { roles: string[]; status: 'Active' | 'Inactive' }>(
    `select ${PERSON_COLUMNS}, m.roles, m.status from devlms.memberships m join devlms.users u on u.login = m.login
     where m.context_id = $1 and u.sub = $2 and m.status = 'Active'`,
    [contextId, sub],
  );
  const r = res.rows[0];
  return r ? { ...toPerson(r), roles: r.roles, status: r.status } : null;
}

/**
 * One page of the course's members. `role` matches a full role URI or its short name after `#`
 * (NRPS lets a tool filter with either, e.g. `Learner`).
 */
export async function listMembers(
  q: Queryable,
  contextId: string,
  opts: { role?: string; limit: number; offset: number },
): Promise<{ members: Member[]; hasMore: boolean }> {
  const res = await q.query<PersonRow & { roles: string[]; status: 'Active' | 'Inactive' }>(
    `select ${PERSON_COLUMNS}, m.roles, m.status from devlms.memberships m join devlms.users u on u.login = m.login
     where m.context_id = $1
       and ($2::text is null or exists (select 1 from unnest(m.roles) r where r = $2 or split_part(r, '#', 2) = $2))
     order by u.position, u.login
     limit $3 offset $4`,
    [contextId, opts.role ?? null, opts.limit + 1, opts.offset],
  );
  const rows = res.rows.slice(0, opts.limit);
  return { members: rows.map((r) => ({ ...toPerson(r), roles: r.roles, status: r.status })), hasMore: res.rows.length > opts.limit };
}

export async function upsertCourse(q: Queryable, c: Course): Promise<void> {
  await q.query(
    `insert into devlms.courses (context_id, label, title) values ($1, $2, $3)
     on conflict (context_id) do update set label = excluded.label, title = excluded.title`,
    [c.contextId, c.label, c.title],
  );
}

export async function upsertPerson(q: Queryable, p: Person, position: number): Promise<void> {
  await q.query(
    `insert into devlms.users (login, sub, name, given_name, family_name, email, institution_roles, position)
     values ($1, $2, $3, $4, $5, $6, $7, $8)
     on conflict (login) do update set sub = excluded.sub, name = excluded.name, given_name = excluded.given_name,
       family_name = excluded.family_name, email = excluded.email, institution_roles = excluded.institution_roles,
       position = excluded.position`,
    [p.login, p.sub, p.name, p.givenName, p.familyName, p.email, p.institutionRoles, position],
  );
}

export async function upsertMembership(q: Queryable, contextId: string, login: string, roles: string[]): Promise<void> {
  await q.query(
    `insert into devlms.memberships (context_id, login, roles) values ($1, $2, $3)
     on conflict (context_id, login) do update set roles = excluded.roles`,
    [contextId, login, roles],
  );
}
