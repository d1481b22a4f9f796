import type { DevLmsContext } from '../context.js';
import { findLink, listLinks, type ResourceLink } from '../db/links.repository.js';
import { findCourse, findMembershipRoles, findPerson, firstCourse, type Course, type Person } from '../db/people.repository.js';
import type { Queryable } from '../db/queryable.js';
import { findRegistration, type Registration } from '../db/registrations.repository.js';
import { MESSAGE_TYPE, ROLE, type LaunchMessageType } from './claims.js';
import { signMessageHint, type MessageHint } from './signed-state.js';

export const SEEDED_CLIENT_ID = 'llm-assess-dev';

/** Everything a launch needs, resolved from the database: who, where, which tool, which link. */
export interface ResolvedLaunch {
  person: Person;
  course: Course;
  registration: Registration;
  /** null for deep linking (an LtiDeepLinkingRequest has no resource link). */
  link: ResourceLink | null;
  messageType: LaunchMessageType;
  /** Context roles, then institution and system roles: what the id_token's roles claim carries. */
  roles: string[];
  targetLinkUri: string;
}

/** Why a launch cannot be made; `status` is what a browser endpoint answers. */
export class LaunchError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'LaunchError';
  }
}

export interface LaunchRequest {
  login: string;
  /** 1-based index among the tool's assignment links, or "nav" for the course navigation link. */
  task?: number | 'nav';
  /** Launch a specific link instead of `task`. */
  resourceLinkId?: string;
  message: 'resource_link' | 'deep_linking';
  clientId?: string;
}

function withQuery(url: string, query: string): string {
  return url + (url.includes('?') ? '&' : '?') + query;
}

function targetFor(registration: Registration, link: ResourceLink | null): string | null {
  if (!link) return registration.deepLinkUri;
  if (link.targetLinkUri) return link.targetLinkUri;
  // Seeded links keep no URL, so they follow the tool URL the dev LMS was started with.
  return link.placement === 'course_navigation' ? withQuery(registration.targetLinkUri, 'placement=course_navigation') : registration.targetLinkUri;
}

async function rolesFor(q: Queryable, course: Course, person: Person): Promise<string[]> {
  const contextRoles = await findMembershipRoles(q, course.contextId, person.login);
  if (!contextRoles && !person.institutionRoles.includes(ROLE.institutionAdministrator)) {
    throw new LaunchError(403, `${person.name} (${person.login}) is not enrolled in ${course.title}.`);
  }
  return [...new Set([...(contextRoles ?? []), ...person.institutionRoles, ROLE.systemUser])];
}

async function assemble(
  q: Queryable,
  parts: { person: Person; course: Course; registration: Registration; link: ResourceLink | null; messageType: LaunchMessageType },
): Promise<ResolvedLaunch> {
  const roles = await rolesFor(q, parts.course, parts.person);
  const targetLinkUri = targetFor(parts.registration, parts.link);
  if (!targetLinkUri) throw new LaunchError(400, `The tool "${parts.registration.name}" did not register for deep linking.`);
  return { ...parts, roles, targetLinkUri };
}

/** Resolves a launch a person starts from the course page. */
export async function resolveLaunch(q: Queryable, req: LaunchRequest): Promise<ResolvedLaunch> {
  const person = await findPerson(q, req.login);
  if (!person) throw new LaunchError(404, `There is no person with login "${req.login}" in this LMS.`);
  const course = await firstCourse(q);
  if (!course) throw new LaunchError(404, 'The LMS has no course yet: seed it first.');
  const clientId = req.clientId ?? SEEDED_CLIENT_ID;
  const registration = await findRegistration(q, clientId);
  if (!registration) throw new LaunchError(404, `No tool is registered with client id "${clientId}".`);

  if (req.message === 'deep_linking') {
    const roles = await rolesFor(q, course, person);
    if (!roles.includes(ROLE.instructor) && !roles.includes(ROLE.institutionAdministrator)) {
      throw new LaunchError(403, 'Only instructors and administrators can add activities (deep linking).');
    }
    return assemble(q, { person, course, registration, link: null, messageType: MESSAGE_TYPE.deepLinking });
  }

  let link: ResourceLink | undefined;
  if (req.resourceLinkId) {
    const found = await findLink(q, req.resourceLinkId);
    if (found && found.clientId === clientId && found.contextId === course.contextId) link = found;
    if (!link) throw new LaunchError(404, `The course has no link "${req.resourceLinkId}" for this tool.`);
  } else {
    const links = await listLinks(q, course.contextId, clientId);
    const task = req.task ?? 1;
    link = task === 'nav'
      ? links.find((l) => l.placement === 'course_navigation')
      : links.filter((l) => l.placement === 'assignment')[task - 1];
    if (!link) {
      throw new LaunchError(404, task === 'nav' ? 'This tool has no course navigation link.' : `The course has no task ${task} for this tool.`);
    }
  }
  return assemble(q, { person, course, registration, link, messageType: MESSAGE_TYPE.resourceLink });
}

/** Re-resolves a launch from a verified message hint at /auth (the people or links may have changed meanwhile). */
export async function resolveFromHint(q: Queryable, hint: MessageHint): Promise<ResolvedLaunch> {
  const person = await findPerson(q, hint.login);
  const course = await findCourse(q, hint.context_id);
  const registration = await findRegistration(q, hint.client_id);
  if (!person || !course || !registration) throw new LaunchError(400, 'The person, course or tool of this login no longer exists.');
  let link: ResourceLink | null = null;
  if (hint.resource_link_id) {
    link = await findLink(q, hint.resource_link_id);
    if (!link || link.clientId !== registration.clientId) throw new LaunchError(400, 'The resource link of this login no longer exists.');
  }
  return assemble(q, { person, course, registration, link, messageType: hint.message_type });
}

export function hintFor(launch: ResolvedLaunch): MessageHint {
  return {
    login: launch.person.login,
    login_hint: launch.person.sub,
    client_id: launch.registration.clientId,
    deployment_id: launch.registration.deploymentId,
    context_id: launch.course.contextId,
    message_type: launch.messageType,
    resource_link_id: launch.link?.id ?? null,
  };
}

/**
 * The OIDC third-party-initiated login URL (LTI 1.3 §5.1.1) the launch page's iframe opens. `login_hint` is the
 * person's opaque id; `lti_message_hint` is signed and short-lived, and /auth only answers when both agree.
 */
export async function loginInitiationUrl(ctx: DevLmsContext, launch: ResolvedLaunch): Promise<string> {
  const params = new URLSearchParams({
    iss: ctx.issuer,
    login_hint: launch.person.sub,
    target_link_uri: launch.targetLinkUri,
    lti_message_hint: await signMessageHint(ctx, hintFor(launch)),
    client_id: launch.registration.clientId,
    lti_deployment_id: launch.registration.deploymentId,
  });
  return withQuery(launch.registration.initiateLoginUri, params.toString());
}
