import type { AgsPlatform } from '../grades/gradebook.js';

/** One person of a course as its LMS roster (LTI NRPS) lists them. */
export interface RosterMember {
  /** The LTI `sub`, as launches carry it. */
  sub: string;
  roles: string[];
  /** The LMS lists them as a current member (NRPS status Active). */
  active: boolean;
  name: string | null;
  givenName: string | null;
  familyName: string | null;
  email: string | null;
}

/** What the roster sync needs of an LMS (src/lti/ags.client.ts implements it over HTTP). */
export interface Roster {
  readMembers(platform: AgsPlatform, membershipsUrl: string): Promise<RosterMember[]>;
}
