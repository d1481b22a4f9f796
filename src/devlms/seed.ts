import type { ToolUrls } from './context.js';
import { insertLineItem } from './db/line-items.repository.js';
import { insertLinkIfAbsent } from './db/links.repository.js';
import { upsertCourse, upsertMembership, upsertPerson } from './db/people.repository.js';
import type { Queryable } from './db/queryable.js';
import { upsertRegistration } from './db/registrations.repository.js';
import { ROLE, SERVICE_SCOPES } from './lti/claims.js';
import { SEEDED_CLIENT_ID } from './lti/launch.service.js';

/**
 * The seeded course, people, tasks and tool registration. Exported so tool tests can name them instead of
 * copying ids. Every `sub` is stable: a tool that keys users on (issuer, sub) sees the same people across runs.
 */
export const SEED = {
  clientId: SEEDED_CLIENT_ID,
  deploymentId: '1',
  toolName: 'llm-assess (development)',
  course: { contextId: 'course-101', label: 'HIST 101', title: 'History 101: Revolutions' },
  people: [
    {
      login: 'instructor', sub: '8f6b2c1e-4d3a-4b5c-9e7f-1a2b3c4d5e01', name: 'Elena Park', givenName: 'Elena', familyName: 'Park',
      email: 'elena.park@example.edu', institutionRoles: [ROLE.institutionFaculty], courseRoles: [ROLE.instructor],
    },
    {
      login: 'student1', sub: '8f6b2c1e-4d3a-4b5c-9e7f-1a2b3c4d5e02', name: 'Amara Okafor', givenName: 'Amara', familyName: 'Okafor',
      email: 'amara.okafor@example.edu', institutionRoles: [ROLE.institutionStudent], courseRoles: [ROLE.learner],
    },
    {
      login: 'student2', sub: '8f6b2c1e-4d3a-4b5c-9e7f-1a2b3c4d5e03', name: 'Ben Carter', givenName: 'Ben', familyName: 'Carter',
      email: 'ben.carter@example.edu', institutionRoles: [ROLE.institutionStudent], courseRoles: [ROLE.learner],
    },
    {
      login: 'student3', sub: '8f6b2c1e-4d3a-4b5c-9e7f-1a2b3c4d5e04', name: 'Wei Chen', givenName: 'Wei', familyName: 'Chen',
      email: 'wei.chen@example.edu', institutionRoles: [ROLE.institutionStudent], courseRoles: [ROLE.learner],
    },
    {
      // An institution administrator is not enrolled in the course (as in Canvas and Moodle): the launch carries
      // the institution role only, and NRPS does not list them.
      login: 'admin', sub: '8f6b2c1e-4d3a-4b5c-9e7f-1a2b3c4d5e05', name: 'Dana Whitfield', givenName: 'Dana', familyName: 'Whitfield',
      email: 'dana.whitfield@example.edu', institutionRoles: [ROLE.institutionAdministrator], courseRoles: null,
    },
    {
      // A Moodle site administrator who also teaches the course: one launch carries both roles.
      login: 'siteadmin', sub: '8f6b2c1e-4d3a-4b5c-9e7f-1a2b3c4d5e06', name: 'Sam Okoye', givenName: 'Sam', familyName: 'Okoye',
      email: 'sam.okoye@example.edu', institutionRoles: [ROLE.institutionAdministrator], courseRoles: [ROLE.instructor],
    },
  ],
  links: [
    {
      id: '3c9e7a10-5b2d-4f8e-a1c4-7d6e5f4a3b01', placement: 'assignment', position: 1,
      title: 'Essay: Causes of the French Revolution',
      description: 'Write a 600–900 word essay on the political, social and economic causes of the French Revolution, citing at least two primary sources.',
      custom: { task_type: 'essay' },
      lineItem: { label: 'Essay: Causes of the French Revolution', scoreMaximum: 100, resourceId: 'hist101-essay-french-revolution', tag: 'essay' },
    },
    {
      id: '3c9e7a10-5b2d-4f8e-a1c4-7d6e5f4a3b02', placement: 'assignment', position: 2,
      title: 'Short answer: The Boston Tea Party',
      description: 'In three to five sentences, explain why the Boston Tea Party happened and one consequence it had.',
      custom: { task_type: 'short_answer' },
      lineItem: { label: 'Short answer: The Boston Tea Party', scoreMaximum: 10, resourceId: 'hist101-short-answer-boston-tea-party', tag: 'short-answer' },
    },
    {
      id: '3c9e7a10-5b2d-4f8e-a1c4-7d6e5f4a3b03', placement: 'course_navigation', position: 1,
      title: 'llm-assess', description: 'The tool in the course menu.', custom: {}, lineItem: null,
    },
  ],
  /** Sent with every launch of the seeded tool; substituted per launch (LTI variable substitution). */
  custom: { username: '$User.username', context_title: '$Context.title' },
} as const;

export type SeedPerson = (typeof SEED.people)[number];

/**
 * Idempotent: upserts the registration (following this start's tool URLs), course, people and memberships;
 * inserts each task link only once, and its line item only with it, so a restart never resurrects what a tool
 * deleted nor duplicates what it created.
 */
export async function seedDevLms(q: Queryable, tool: ToolUrls): Promise<void> {
  await upsertRegistration(q, {
    clientId: SEED.clientId,
    deploymentId: SEED.deploymentId,
    name: SEED.toolName,
    initiateLoginUri: tool.loginUrl,
    targetLinkUri: tool.launchUrl,
    deepLinkUri: tool.deepLinkUrl,
    redirectUris: tool.redirectUris,
    jwksUri: tool.jwksUrl,
    scopes: [...SERVICE_SCOPES],
    custom: { ...SEED.custom },
    source: 'seed',
    toolConfiguration: null,
  });
  await upsertCourse(q, SEED.course);
  for (const [i, p] of SEED.people.entries()) {
    await upsertPerson(q, { ...p, institutionRoles: [...p.institutionRoles] }, i + 1);
    if (p.courseRoles) await upsertMembership(q, SEED.course.contextId, p.login, [...p.courseRoles]);
  }
  for (const l of SEED.links) {
    const inserted = await insertLinkIfAbsent(q, {
      id: l.id,
      contextId: SEED.course.contextId,
      clientId: SEED.clientId,
      placement: l.placement,
      position: l.position,
      title: l.title,
      description: l.description,
      targetLinkUri: null,
      custom: { ...l.custom },
    });
    if (inserted && l.lineItem) {
      await insertLineItem(q, { contextId: SEED.course.contextId, clientId: SEED.clientId }, {
        ...l.lineItem,
        resourceLinkId: l.id,
        startDateTime: null,
        endDateTime: null,
      });
    }
  }
}
