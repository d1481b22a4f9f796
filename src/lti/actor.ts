import { countUnread } from '../models/notifications/notifications.repository.js';
import type { NextFunction, Request, Response } from 'express';
import type { ContextToken, IdToken } from 'ltijs';
import type { Db } from '../db/db.js';
import type { Role } from '../models/tenancy/tenancy.table.js';
import { csrfTokenFor } from '../http/csrf.js';
import { Forbidden, LtiLaunchError } from '../errors.js';
import type { ViewContext } from '../http/render.js';
import type { AdminAllowlistEntry } from '../config.js';
import { admitPerson, admitPlatform } from './admission.js';
import type { PlatformDirectory } from './platform-directory.js';
import { findSessionIds } from '../models/tenancy/people.repository.js';

/** Who is asking, and in which tenant: every route authorizes against this and nothing else. */
export interface Actor {
  /** The tenant. */
  platformId: number;
  /** The registration (client) this session came through; differs from `platformId` for a joined client. */
  registrationId: number;
  platformName: string;
  issuer: string;
  clientId: string;
  deploymentId: string;
  /** Null only for an administrator launched outside any course. */
  courseId: number | null;
  courseTitle: string;
  userId: number;
  sub: string;
  name: string;
  /** The role of their home: the course role in a course, else administrator. */
  role: Role;
  /** Every role they hold here (an administrator who teaches holds both); `allow` checks these. */
  roles: Role[];
  ltik: string;
  messageType: ContextToken['messageType'];
  context: ContextToken;
}

export function actorOf(res: Response): Actor {
  const actor = res.locals.actor as Actor | undefined;
  if (!actor) throw LtiLaunchError('Your session was not found. Please open the tool again from your course.', 'no_session');
  return actor;
}

const NAV: Record<Role, Array<{ href: string; label: string }>> = {
  student: [
    { href: '/student', label: 'My tasks' },
    { href: '/student/my-data', label: 'My data' },
  ],
  instructor: [
    { href: '/instructor', label: 'Tasks' },
    { href: '/instructor/review', label: 'Review' },
    { href: '/instructor/analytics', label: 'Agreement' },
    { href: '/instructor/settings', label: 'Course settings' },
  ],
  administrator: [
    { href: '/admin', label: 'Overview' },
    { href: '/admin/queue', label: 'Queue' },
    { href: '/admin/batches', label: 'Batches' },
    { href: '/admin/schedules', label: 'Schedules' },
    { href: '/admin/costs', label: 'Costs' },
    { href: '/admin/monitoring', label: 'Monitoring' },
    { href: '/admin/notifications', label: 'Notifications' },
    { href: '/admin/platforms', label: 'LMS registrations' },
    { href: '/admin/people', label: 'People' },
    { href: '/admin/privacy', label: 'Privacy' },
    { href: '/admin/audit', label: 'Audit log' },
  ],
};

/** Where a person holding several roles goes to act in another one (the header's "switch to" links). */
const SWITCH: Record<Role, { href: string; label: string }> = {
  student: { href: '/student', label: 'My tasks as a student' },
  instructor: { href: '/instructor', label: 'This course as instructor' },
  administrator: { href: '/admin', label: 'Administration' },
};

const AREAS: Array<[string, Role]> = [
  ['/admin', 'administrator'],
  ['/instructor', 'instructor'],
  ['/student', 'student'],
];

/** The role a page is seen in: the one owning its area, when the person holds it; else their home role. */
export function areaRole(actor: Pick<Actor, 'role' | 'roles'>, path: string): Role {
  const owner = AREAS.find(([prefix]) => path === prefix || path.startsWith(`${prefix}/`))?.[1];
  return owner && actor.roles.includes(owner) ? owner : actor.role;
}

/**
 * Builds the actor from the session ltijs validated (the ltik and its cookie). The platform must still be
 * registered and active and the deployment still allowed: revoking either ends existing sessions too.
 */
export function resolveActor(deps: { db: Db; platforms: PlatformDirectory; adminAllowlist: readonly AdminAllowlistEntry[]; ltiKey: string; demoMode: boolean }) {
  return async (req: Request, res: Response, next: NextFunction): Promise<void> => {
    try {
      const token = res.locals.token as IdToken | undefined;
      const context = res.locals.context as ContextToken | undefined;
      const ltik = res.locals.ltik as string | undefined;
      if (!token || !context || !ltik) throw LtiLaunchError('Your session was not found. Please open the tool again from your course.', 'no_session');

      const platform = admitPlatform(await deps.platforms.get(token.iss, token.clientId), { issuer: token.iss, clientId: token.clientId, deploymentId: token.deploymentId, step: 'session' });
      const person = { roles: context.roles ?? [], issuer: token.iss, sub: token.user, adminAllowlist: deps.adminAllowlist };
      const inCourse = admitPerson({ ...person, inCourse: true });

      const row = await findSessionIds(deps.db, { platformId: platform.id, sub: token.user, deploymentId: platform.courseDeployment(token.deploymentId), contextId: context.context?.id ?? '' });
      if (!row?.user_id) throw LtiLaunchError('Your session is incomplete. Please open the tool again from your course.', 'no_session');
      // Outside a course only administrators have anything to do (and only the admin panel to do it in).
      const { role, roles } = row.course_id ? inCourse : admitPerson({ ...person, inCourse: false });
      const actor: Actor = {
        platformId: platform.id,
        registrationId: platform.registrationId,
        platformName: platform.name,
        issuer: token.iss,
        clientId: token.clientId,
        deploymentId: token.deploymentId,
        courseId: row.course_id,
        courseTitle: row.course_title ?? context.context?.title ?? '',
        userId: row.user_id,
        sub: token.user,
        name: token.userInfo?.name || [token.userInfo?.given_name, token.userInfo?.family_name].filter(Boolean).join(' ') || 'you',
        role,
        roles,
        ltik,
        messageType: context.messageType,
        context,
      };
      res.locals.actor = actor;
      const here = areaRole(actor, req.path);
      const view: ViewContext = {
        ltik,
        csrfToken: csrfTokenFor(deps.ltiKey, ltik),
        role: here,
        userName: actor.name,
        courseTitle: actor.courseTitle,
        platformName: platform.name,
        demoMode: deps.demoMode,
        nav: NAV[here],
        switchTo: actor.roles.filter((r) => r !== here).map((r) => SWITCH[r]),
        // The JSON API never draws the header: no count to read for it.
        unread: req.path.startsWith('/api/') ? undefined : await countUnread(deps.db, { platformId: platform.id, userId: actor.userId, administrator: actor.roles.includes('administrator') }),
      };
      res.locals.view = view;
      next();
    } catch (err) {
      next(err);
    }
  };
}

/** Allows the listed roles only. */
export function allow(...roles: Role[]) {
  return (_req: Request, res: Response, next: NextFunction): void => {
    const actor = actorOf(res);
    if (!roles.some((r) => actor.roles.includes(r))) {
      return next(Forbidden(`This page is for ${roles.map((r) => `${r}s`).join(' and ')}; you are signed in as ${article(actor.role)} ${actor.role}.`));
    }
    next();
  };
}

function article(word: string): string {
  return /^[aeiou]/.test(word) ? 'an' : 'a';
}

/** The course of a course-scoped route; administrators launched outside a course have none. */
export function courseOf(actor: Actor): number {
  if (actor.courseId == null) throw LtiLaunchError('This page needs a course: open the tool from within a course.', 'no_course', 400);
  return actor.courseId;
}
