/**
 * The course role an LMS's role URIs give (LTI 1.3 / LIS v2): instructors, teaching assistants and content
 * developers teach; learners are students. Used for launches (src/lti/roles.ts) and for the roster (NRPS) alike.
 */
const LIS = 'http://purl.imsglobal.org/vocab/lis/v2/';

export function isInstructorRole(uri: string): boolean {
  return (
    uri === `${LIS}membership#Instructor` ||
    uri.startsWith(`${LIS}membership/Instructor#`) ||
    uri === `${LIS}membership#ContentDeveloper` ||
    uri === `${LIS}membership#Administrator` ||
    uri === `${LIS}institution/person#Faculty` ||
    uri === 'Instructor'
  );
}

export function isStudentRole(uri: string): boolean {
  return uri === `${LIS}membership#Learner` || uri.startsWith(`${LIS}membership/Learner#`) || uri === `${LIS}institution/person#Student` || uri === 'Learner';
}

/** Instructor over student when both are held (a teaching assistant enrolled as learner too); null: neither. */
export function courseRoleOf(roles: readonly string[]): 'instructor' | 'student' | null {
  if (roles.some(isInstructorRole)) return 'instructor';
  if (roles.some(isStudentRole)) return 'student';
  return null;
}
