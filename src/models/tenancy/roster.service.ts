import type { Db } from '../../db/db.js';
import { recordAudit } from '../audit/audit.repository.js';
import { courseRoleOf } from './course-role.js';
import type { Roster } from './roster.js';
import { applyRoster, findRosterSource, type RosterEntry } from './roster.repository.js';

/** How long a course's roster is trusted before a staff launch asks the LMS again. */
export const ROSTER_TTL_MS = 60 * 60 * 1000;

export type RosterOutcome = { kind: 'no_service' } | { kind: 'synced'; members: number; active: number; inactive: number };

/** Whether a launch should ask for the roster: the course has a roster service and its copy is missing or old. */
export function rosterIsDue(source: { membershipsUrl: string | null; rosterSyncedAt: Date | null }, now = Date.now()): boolean {
  return Boolean(source.membershipsUrl) && (!source.rosterSyncedAt || now - source.rosterSyncedAt.getTime() > ROSTER_TTL_MS);
}

/**
 * Reads a course's roster from the LMS (LTI NRPS) and keeps it: everyone the LMS lists as a student or instructor
 * becomes a member (before their first launch), people it no longer lists become inactive. The instructor sees
 * who has not submitted a task from it. Observers and others without a course role are skipped. Errors of the LMS
 * are the caller's to log: nothing is written then.
 */
export async function syncRoster(db: Db, roster: Roster, courseId: number): Promise<RosterOutcome> {
  const source = await findRosterSource(db, courseId);
  if (!source?.membershipsUrl) return { kind: 'no_service' };
  const members = await roster.readMembers({ issuer: source.issuer, clientId: source.clientId }, source.membershipsUrl);
  const entries = new Map<string, RosterEntry>();
  for (const m of members) {
    const role = courseRoleOf(m.roles);
    if (role) entries.set(m.sub, { sub: m.sub, role, active: m.active, name: m.name, givenName: m.givenName, familyName: m.familyName, email: m.email });
  }
  const counts = await applyRoster(db, source, [...entries.values()]);
  await recordAudit(db, { platformId: source.platformId, courseId, actorKind: 'system', action: 'course.roster_synced', entityType: 'course', entityId: courseId, details: { members: entries.size, ...counts } });
  return { kind: 'synced', members: entries.size, ...counts };
}
