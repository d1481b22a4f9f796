import type { AdminAllowlistEntry } from '../config.js';
import type { Role } from '../models/tenancy/tenancy.table.js';
import { courseRoleOf } from '../models/tenancy/course-role.js';

/**
 * LTI role URIs → our three roles. Institution and system administrators administer the platform; course
 * instructors, teaching assistants and content developers teach; learners are students. Anything else
 * (observers, mentors, guests) has no role here and is turned away with a message.
 */
const LIS = 'http://purl.imsglobal.org/vocab/lis/v2/';

const ADMIN_ROLES = new Set([
  `${LIS}institution/person#Administrator`,
  `${LIS}system/person#Administrator`,
  `${LIS}system/person#SysAdmin`,
]);

export interface RoleSubject {
  roles: string[];
  issuer: string;
  sub: string;
}

/**
 * Every role the person holds here, the course role first: a Moodle site administrator teaching a course launches
 * with Administrator and Instructor roles and is both (issue 15). Empty when none of their LTI roles gives one.
 */
export function mapRoles(subject: RoleSubject, adminAllowlist: readonly AdminAllowlistEntry[]): Role[] {
  const roles: Role[] = [];
  const inCourse = courseRoleOf(subject.roles);
  if (inCourse) roles.push(inCourse);
  const allowlisted = adminAllowlist.some((entry) => entry.issuer === subject.issuer && entry.sub === subject.sub);
  if (allowlisted || subject.roles.some((r) => ADMIN_ROLES.has(r))) roles.push('administrator');
  return roles;
}

/** A readable name for a role URI, for "your role (Observer) cannot use this tool". */
export function describeLtiRoles(roles: string[]): string {
  if (!roles.length) return 'none';
  return roles.map((r) => r.split(/[#/]/).pop() || r).join(', ');
}
