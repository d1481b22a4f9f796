import type { Db } from '../../db/db.js';
import { recordAudit } from '../audit/audit.repository.js';
import { bindTaskToResourceLink, findOrCreateTaskForLink, findTaskByResourceLink, findTaskInCourse, updateTaskLineItem, updateTaskLmsUrl, type TaskRow } from '../tasks/tasks.repository.js';
import { upsertCourse, upsertMembership, upsertUser } from './people.repository.js';
import { rosterIsDue } from './roster.service.js';
import type { Role } from './tenancy.table.js';

export interface LaunchFacts {
  platformId: number;
  /** The registration (client) that launched: its token is the one that may use the URLs this launch names. */
  registrationId: number;
  /** The deployment whose courses this launch opens (see `KnownPlatform.courseDeployment`). */
  deploymentId: string;
  sub: string;
  role: Role;
  ltiRoles: string[];
  person: { name?: string; givenName?: string; familyName?: string; email?: string };
  context?: { id: string; title?: string; label?: string };
  /** The resource link of a graded activity; absent for course navigation. */
  resourceLink?: { id: string; title?: string; description?: string };
  lineItemUrl?: string;
  lineItemsUrl?: string;
  /** The course's roster service (NRPS), when the LMS offers it. */
  membershipsUrl?: string;
  /** Set by our own deep-linking response on links we created. */
  customTaskId?: number;
  /** Whether they launched holding the administrator role (they get the administrators' e-mail). */
  administrator?: boolean;
  /** The course's and the activity's pages in the LMS, read from the launch's return URL (`lti/lms-links.ts`). */
  lmsLinks?: { course: string | null; activity: string | null };
}

export interface LaunchRecord {
  courseId: number | null;
  userId: number;
  task: TaskRow | null;
  /**
   * Whether the task's gradebook column should be read from the LMS now (its maximum may differ from the task's):
   * on the first launch that names the column, and on every launch by staff (who may have changed it in the LMS).
   */
  readColumn: boolean;
  /** Whether the course's roster should be read from the LMS now (a staff launch, and the copy missing or old). */
  syncRoster: boolean;
}

/**
 * Records who launched from where: the course, the person and their role in it, and the task behind the
 * resource link (created on its first launch, as an LMS assignment already exists when someone opens it).
 * Runs in the caller's transaction.
 */
export async function recordLaunch(db: Db, f: LaunchFacts): Promise<LaunchRecord> {
  const user = await upsertUser(db, {
    platformId: f.platformId,
    sub: f.sub,
    name: f.person.name ?? null,
    givenName: f.person.givenName ?? null,
    familyName: f.person.familyName ?? null,
    email: f.person.email ?? null,
    administrator: f.administrator ?? false,
  });
  if (!f.context) {
    await recordAudit(db, { platformId: f.platformId, actorId: user.id, actorKind: 'user', action: 'lti.launch', entityType: 'platform', entityId: f.platformId, details: { role: f.role } });
    return { courseId: null, userId: user.id, task: null, readColumn: false, syncRoster: false };
  }
  const course = await upsertCourse(db, {
    platformId: f.platformId,
    deploymentId: f.deploymentId,
    contextId: f.context.id,
    title: f.context.title ?? '',
    label: f.context.label ?? '',
    membershipsUrl: f.membershipsUrl ?? null,
    rosterRegistrationId: f.membershipsUrl ? f.registrationId : null,
    lmsUrl: f.lmsLinks?.course ?? null,
  });
  await upsertMembership(db, { courseId: course.id, userId: user.id, role: f.role, ltiRoles: f.ltiRoles });

  const { task, readColumn } = f.resourceLink ? await taskOfLink(db, f, course.id, f.resourceLink, user.id) : { task: null, readColumn: false };
  await recordAudit(db, {
    platformId: f.platformId,
    courseId: course.id,
    actorId: user.id,
    actorKind: 'user',
    action: 'lti.launch',
    entityType: task ? 'task' : 'course',
    entityId: task ? task.id : course.id,
    details: { role: f.role },
  });
  return { courseId: course.id, userId: user.id, task, readColumn, syncRoster: f.role !== 'student' && rosterIsDue(course) };
}

/**
 * The task behind a resource link. A link we made by deep linking carries its task's id: the first launch binds
 * the task to the link. A second link carrying the same id (the LMS duplicated the activity, or placed it twice)
 * opens that same task: it never makes another one, and it does not move the task's gradebook column, which stays
 * the one of the link the task is bound to. Any other link gets its own task on its first launch.
 */
async function taskOfLink(db: Db, f: LaunchFacts, courseId: number, link: NonNullable<LaunchFacts['resourceLink']>, userId: number): Promise<{ task: TaskRow; readColumn: boolean }> {
  let task = await findTaskByResourceLink(db, courseId, link.id);
  if (!task && f.customTaskId) {
    if (await bindTaskToResourceLink(db, courseId, f.customTaskId, link.id)) task = await findTaskByResourceLink(db, courseId, link.id);
    else task = await findTaskInCourse(db, courseId, f.customTaskId);
  }
  const firstLaunch = !task;
  task ??= await findOrCreateTaskForLink(db, {
    courseId,
    resourceLinkId: link.id,
    title: link.title?.trim() || 'Untitled task',
    description: link.description ?? '',
    lineItemUrl: f.lineItemUrl ?? null,
    lineItemsUrl: f.lineItemsUrl ?? null,
    registrationId: f.lineItemUrl || f.lineItemsUrl ? f.registrationId : null,
    createdBy: f.role === 'student' ? null : userId,
  });
  const ownLink = task.resourceLinkId === link.id;
  if (ownLink && f.lmsLinks?.activity && f.lmsLinks.activity !== task.lmsUrl) await updateTaskLmsUrl(db, task.id, f.lmsLinks.activity);
  const newColumn = Boolean(f.lineItemUrl && f.lineItemUrl !== task.lineItemUrl);
  if (ownLink && (newColumn || (f.lineItemsUrl && f.lineItemsUrl !== task.lineItemsUrl))) {
    await updateTaskLineItem(db, task.id, f.lineItemUrl ?? null, f.lineItemsUrl ?? null, f.registrationId);
  }
  return { task, readColumn: ownLink && Boolean(f.lineItemUrl) && (firstLaunch || newColumn || f.role !== 'student') };
}
