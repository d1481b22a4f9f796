import type { AdminAllowlistEntry } from '../config.js';
import { BadRequest, Forbidden, LtiLaunchError, type HttpError } from '../errors.js';
import type { Role } from '../models/tenancy/tenancy.table.js';
import type { KnownPlatform } from './platform-directory.js';
import { describeLtiRoles, mapRoles } from './roles.js';

/**
 * Who may come in, checked the same way at every step of a launch — the login, the id_token, the recorded launch
 * and every request of the session after it: the LMS registered and active, the deployment allowed, a role that
 * gives access. Revoking any of them ends existing sessions too.
 */

const UNKNOWN_DEPLOYMENT = (id: string) =>
  `Deployment "${id}" of this LMS is not allowed to use llm-assess. An administrator can allow it (npm run lti -- deployment add).`;

export interface PlatformCheck {
  issuer: string;
  clientId?: string;
  /** Absent where the LMS has not named it yet (a login may omit it). */
  deploymentId?: string;
  /** A login is refused with 400 (nothing to relaunch yet); later steps with 401. */
  step: 'login' | 'launch' | 'session';
}

export function admitPlatform(platform: KnownPlatform | null, check: PlatformCheck): KnownPlatform {
  if (!platform) {
    const client = check.clientId ? ` for client id ${check.clientId}` : '';
    const message = `This LMS (issuer ${check.issuer}) is not registered with llm-assess${client}. Ask your administrator to register it.`;
    throw (check.step === 'login' ? BadRequest(message) : LtiLaunchError(message, 'unknown_platform')) as HttpError;
  }
  if (!platform.active) throw LtiLaunchError('This LMS registration is not active. Ask your administrator to activate it.', 'inactive_platform');
  if (check.deploymentId !== undefined && !platform.deployments.has(check.deploymentId)) {
    throw LtiLaunchError(UNKNOWN_DEPLOYMENT(check.deploymentId), 'unknown_deployment');
  }
  return platform;
}

export interface PersonCheck {
  roles: string[];
  issuer: string;
  sub: string;
  adminAllowlist: readonly AdminAllowlistEntry[];
  /** Whether the launch came from a course (only administrators may come without one). */
  inCourse: boolean;
}

/** What a person may be here: `role` opens their home (the course role in a course), `roles` are all they hold. */
export interface Admitted {
  role: Role;
  roles: Role[];
}

/**
 * The person's roles here; refused (403) when their LTI roles give none, 400 outside a course unless administrator.
 * In a course their home is the course role (an administrator who teaches lands on the course's pages and switches
 * to the admin panel from there); outside one it is the admin panel.
 */
export function admitPerson(p: PersonCheck): Admitted {
  const roles = mapRoles({ roles: p.roles, issuer: p.issuer, sub: p.sub }, p.adminAllowlist);
  if (!roles.length) throw Forbidden(`Your role in this course (${describeLtiRoles(p.roles)}) does not give access to llm-assess.`);
  if (!p.inCourse && !roles.includes('administrator')) throw LtiLaunchError('llm-assess must be opened from within a course.', 'no_course', 400);
  const role = p.inCourse ? roles[0]! : 'administrator';
  return { role, roles: p.inCourse ? roles : ['administrator'] };
}
