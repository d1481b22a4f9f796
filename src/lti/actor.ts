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
  platformId: number;
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
  role: Role;
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
  student: [{ href: '/student', label: 'My tasks' }],
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
    { href: '/admin/costs', label: 'Costs' },
    { href: '/admin/platforms', label: 'LMS registrations' },
  ],
};

/**
 * Builds the actor from the session ltijs validated (the ltik and its cookie). The platform must still be
 * registered and active and the deployment still allowed: revoking either ends existing sessions too.
 */
export function resolveActor(deps: { db: Db; platforms: PlatformDirectory; adminAllowlist: readonly AdminAllowlistEntry[]; ltiKey: string; demoMode: boolean }) {
  return async (_req: Request, res: Response, next: NextFunction): Promise<void> => {
    try {
      const token = res.locals.token as IdToken | undefined;
      const context = res.locals.context as ContextToken | undefined;
      const ltik = res.locals.ltik as string | undefined;
      if (!token || !context || !ltik) throw LtiLaunchError('Your session was not found. Please open the tool again from your course.', 'no_session');

      const platform = admitPlatform(await deps.platforms.get(token.iss, token.clientId), { issuer: token.iss, clientId: token.clientId, deploymentId: token.deploymentId, step: 'session' });
      const role = admitPerson({ roles: context.roles ?? [], issuer: token.iss, sub: token.user, adminAllowlist: deps.adminAllowlist, inCourse: true });

      const row = await findSessionIds(deps.db, { platformId: platform.id, sub: token.user, deploymentId: token.deploymentId, contextId: context.context?.id ?? '' });
      if (!row?.user_id) throw LtiLaunchError('Your session is incomplete. Please open the tool again from your course.', 'no_session');
      if (!row.course_id && role !== 'administrator') {
        throw LtiLaunchError('llm-assess must be opened from within a course.', 'no_course', 400);
      }
      const actor: Actor = {
        platformId: platform.id,
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
        ltik,
        messageType: context.messageType,
        context,
      };
      res.locals.actor = actor;
      const view: ViewContext = {
        ltik,
        csrfToken: csrfTokenFor(deps.ltiKey, ltik),
        role,
        userName: actor.name,
        courseTitle: actor.courseTitle,
        platformName: platform.name,
        demoMode: deps.demoMode,
        nav: NAV[role],
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
    if (!roles.includes(actor.role)) {
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
