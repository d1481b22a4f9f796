import type { AdminAllowlistEntry } from '../config.js';
import { BadRequest, Forbidden, LtiLaunchError, type HttpError } from '../errors.js';
import type { Role } from '../models/tenancy/tenancy.table.js';
import type { KnownPlatform } from './platform-directory.js';
import { describeLtiRoles, mapRole } from './roles.js';

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

/** The person's role here; refused (403) when their LTI roles give none, 400 outside a course unless administrator. */
export function admitPerson(p: PersonCheck): Role {
  const role = mapRole({ roles: p.roles, issuer: p.issuer, sub: p.sub }, p.adminAllowlist);
  if (!role) throw Forbidden(`Your role in this course (${describeLtiRoles(p.roles)}) does not give access to llm-assess.`);
  if (!p.inCourse && role !== 'administrator') throw LtiLaunchError('llm-assess must be opened from within a course.', 'no_course', 400);
  return role;
}
