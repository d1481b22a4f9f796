import { ROLE } from './claims.js';

/** A short word for a person's roles, for pages. */
export function roleLabel(roles: readonly string[]): string {
  if (roles.includes(ROLE.institutionAdministrator)) return 'Administrator';
  if (roles.includes(ROLE.instructor)) return 'Instructor';
  if (roles.includes(ROLE.learner)) return 'Learner';
  return 'Guest';
}
