import type { NextFunction, Request, Response } from 'express';
import { lmsLinksFrom } from './lms-links.js';
import type { IdToken, ProviderInstance } from 'ltijs';
import type { RootDb } from '../db/db.js';
import { Forbidden, LtiLaunchError } from '../errors.js';
import { linkWith } from '../http/render.js';
import { recordLaunch } from '../models/tenancy/launch.service.js';
import type { Role } from '../models/tenancy/tenancy.table.js';
import { verifyIdToken, type IdTokenVerifierDeps } from './id-token.js';
import { ltijsDatabaseError } from './ltijs-database.js';
import { launchHandoffFor } from './ltijs-seam.js';
import type { PlatformDirectory } from './platform-directory.js';
import type { AdminAllowlistEntry } from '../config.js';
import { admitPerson, admitPlatform } from './admission.js';
import { enqueueSoon, type Jobs } from '../job-queue.js';
import type { Logger } from '../log.js';

const MAX_STATE_CHARS = 256;
const RELAUNCH = 'Please open the tool again from your course.';

/** The custom parameter our deep-linking responses put on the links they create. */
export const TASK_ID_CUSTOM_PARAM = 'llm_assess_task_id';

/**
 * Before ltijs handles a launch POST, we verify the id_token completely (id-token.ts) and hand the verified
 * claims to ltijs through the seam. A platform's error answer (OIDC `error`) becomes a readable page.
 */
export function verifyLaunchPost(deps: IdTokenVerifierDeps, lti: ProviderInstance) {
  const handoff = launchHandoffFor(lti.Database);
  return async (req: Request, res: Response, next: NextFunction): Promise<void> => {
    const body = (req.body ?? {}) as Record<string, unknown>;
    // Our states are 48 characters; a longer one is not ours, and its cookie name would be echoed in Set-Cookie.
    if (typeof body.state === 'string' && body.state.length > MAX_STATE_CHARS) return next(LtiLaunchError(`The launch state is not one this tool made. ${RELAUNCH}`, 'invalid_state', 400));
    if (typeof body.error === 'string' && !body.id_token) {
      const detail = typeof body.error_description === 'string' ? `: ${body.error_description.slice(0, 500)}` : '';
      return next(LtiLaunchError(`Your LMS could not complete the launch (${body.error.slice(0, 100)}${detail}).`, 'platform_error'));
    }
    if (typeof body.id_token !== 'string') return next();
    if (typeof body.state !== 'string' || !body.state) return next(LtiLaunchError('The launch has no state. Please open the tool again from your course.', 'missing_state'));
    const idToken = body.id_token;
    try {
      const stateCookie = req.signedCookies?.[`state${body.state}`] as string | false | undefined;
      const { claims, platform } = await verifyIdToken(deps, { idToken, state: body.state, stateCookieIssuer: stateCookie || undefined });
      handoff.put(idToken, { ...claims, clientId: platform.clientId, platformId: platform.ltijsPlatformId });
      // ltijs takes the claims synchronously within this request; never leave them behind.
      res.on('close', () => handoff.discard(idToken));
      next();
    } catch (err) {
      res.clearCookie(`state${body.state}`, { signed: true, httpOnly: true, secure: true, sameSite: 'none' });
      next(err);
    }
  };
}

export interface LaunchDeps {
  db: RootDb;
  platforms: PlatformDirectory;
  adminAllowlist: readonly AdminAllowlistEntry[];
  logger: Pick<Logger, 'warn'>;
  /** Asks a worker to read the task's gradebook column (its maximum) and the course roster; absent in bare apps. */
  jobs?: Jobs;
}

function homeFor(role: Role, taskId: number | undefined): string {
  if (role === 'administrator') return '/admin';
  const base = role === 'student' ? '/student' : '/instructor';
  return taskId ? `${base}/tasks/${taskId}` : base;
}

/**
 * After a verified launch (ltijs redirected back with an ltik): record the course, person and task, then send
 * each role to its home. Course navigation launches (placement=course_navigation) open the course overview.
 */
export function onLaunch(deps: LaunchDeps) {
  return async (token: IdToken, req: Request, res: Response, next: NextFunction): Promise<void> => {
    try {
      const record = await recordFromToken(deps, token, req.query.placement === 'course_navigation' ? 'navigation' : 'resource');
      res.redirect(302, linkWith(res.locals.ltik as string)(homeFor(record.role, record.taskId)));
    } catch (err) {
      next(err);
    }
  };
}

/** Deep linking (assignment and link selection): instructors pick or create the task to place in the LMS. */
export function onDeepLinkingLaunch(deps: LaunchDeps) {
  return async (token: IdToken, _req: Request, res: Response, next: NextFunction): Promise<void> => {
    try {
      const record = await recordFromToken(deps, token, 'navigation');
      if (record.role === 'student') throw Forbidden('Only instructors can add llm-assess activities to a course.');
      res.redirect(302, linkWith(res.locals.ltik as string)('/deep-linking'));
    } catch (err) {
      next(err);
    }
  };
}

async function recordFromToken(deps: LaunchDeps, token: IdToken, kind: 'resource' | 'navigation'): Promise<{ role: Role; taskId?: number }> {
  const context = token.platformContext;
  const platform = admitPlatform(await deps.platforms.get(token.iss, token.clientId), { issuer: token.iss, clientId: token.clientId, deploymentId: token.deploymentId, step: 'launch' });
  const { role, roles } = admitPerson({ roles: context.roles ?? [], issuer: token.iss, sub: token.user, adminAllowlist: deps.adminAllowlist, inCourse: Boolean(context.context) });

  const customTaskId = Number(context.custom?.[TASK_ID_CUSTOM_PARAM]);
  const record = await deps.db.transaction((tx) =>
    recordLaunch(tx, {
      platformId: platform.id,
      registrationId: platform.registrationId,
      // A client joined to a platform opens that platform's courses (the same LMS course is one course here).
      deploymentId: platform.courseDeployment(token.deploymentId),
      sub: token.user,
      role,
      ltiRoles: context.roles ?? [],
      person: {
        name: token.userInfo?.name,
        givenName: token.userInfo?.given_name,
        familyName: token.userInfo?.family_name,
        email: token.userInfo?.email,
      },
      context: context.context ? { id: context.context.id, title: context.context.title, label: context.context.label } : undefined,
      resourceLink: kind === 'resource' && context.resource ? context.resource : undefined,
      lineItemUrl: context.endpoint?.lineitem,
      lineItemsUrl: context.endpoint?.lineitems,
      membershipsUrl: context.namesRoles?.context_memberships_url,
      customTaskId: Number.isSafeInteger(customTaskId) && customTaskId > 0 ? customTaskId : undefined,
      administrator: roles.includes('administrator'),
      lmsLinks: lmsLinksFrom(context.launchPresentation?.return_url),
    }),
  );
  if (record.readColumn && record.task) await enqueueSoon(deps.jobs, deps.logger, 'read-gradebook-column', { taskId: record.task.id });
  if (record.syncRoster && record.courseId) await enqueueSoon(deps.jobs, deps.logger, 'sync-roster', { courseId: record.courseId });
  return { role, taskId: record.task?.id };
}

/** ltijs' failure callbacks, turned into our errors (a page with the right status, never ltijs' JSON dump). */
export function ltijsFailureHandlers(lti: ProviderInstance): void {
  lti.onInvalidToken((_req, res, next) => {
    // Not the token's fault: the database failed under ltijs (503 or 500 through the error handler, logged).
    const databaseError = ltijsDatabaseError();
    if (databaseError !== undefined) return next(databaseError);
    const detail = (res.locals.err as { details?: { message?: string } } | undefined)?.details?.message ?? '';
    if (detail === 'NO_LTIK_OR_IDTOKEN_FOUND') {
      return next(LtiLaunchError('This page needs a launch from your LMS. Please open the tool from your course.', 'no_session'));
    }
    if (detail === 'IDTOKEN_NOT_FOUND_DB' || detail === 'CONTEXTTOKEN_NOT_FOUND_DB') {
      return next(LtiLaunchError('Your session has expired. Please open the tool again from your course.', 'session_expired'));
    }
    if (detail === 'LAUNCH_NOT_VERIFIED') {
      return next(LtiLaunchError('This launch was not verified. Please open the tool again from your course.', 'launch_not_verified'));
    }
    return next(LtiLaunchError('Your session token is not valid. Please open the tool again from your course.', 'invalid_session'));
  });
  lti.onSessionTimeout((_req, _res, next) =>
    next(
      LtiLaunchError(
        'Your session was not found in this browser, or another person launched the tool here since. Please open the tool again from your course.',
        'session_not_found',
      ),
    ),
  );
  lti.onUnregisteredPlatform((_req, _res, next) => next(LtiLaunchError('This LMS is not registered with llm-assess.', 'unknown_platform', 400)));
  lti.onInactivePlatform((_req, _res, next) => next(LtiLaunchError('This LMS registration is not active.', 'inactive_platform')));
}
