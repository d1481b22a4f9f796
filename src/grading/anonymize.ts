/**
 * What is known about a person whose identity must not leave: the student who wrote a text (the author), or a
 * member of the course's roster. `sub` is their LMS user id; `login` a user name, when the LMS shares one.
 */
export interface Identity {
  name?: string | null;
  givenName?: string | null;
  familyName?: string | null;
  email?: string | null;
  sub?: string | null;
  login?: string | null;
}
