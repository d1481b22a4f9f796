import { sql } from 'drizzle-orm';
import { boolean, check, index, pgTable, primaryKey, text, unique, type AnyPgColumn } from 'drizzle-orm/pg-core';
import { at, createdAt, id, ref, updatedAt } from '../columns.js';

/**
 * Tenancy. ltijs keeps its own `platforms` table (keys, endpoints); `lti_platforms` is our row for the same
 * registration (one issuer + client id), so our rows can reference it with foreign keys. A registration is a
 * tenant (a platform) of its own, or, when an administrator joined it to one (`joinedPlatformId`), another client
 * of that platform's LMS: its launches land in that platform's courses, people, queue and budgets, while its own
 * keys and deployments still verify its launches and call the LMS for the activities placed through it. Canvas
 * cloud shares one issuer across institutions, so the issuer alone is not a tenant.
 */
export const ltiPlatforms = pgTable(
  'lti_platforms',
  {
    id: id(),
    issuer: text('issuer').notNull(),
    clientId: text('client_id').notNull(),
    name: text('name').notNull(),
    /** ltijs' platform id (the kid of the tool key pair it generated for this platform). */
    ltijsPlatformId: text('ltijs_platform_id').notNull(),
    active: boolean('active').notNull().default(true),
    /** The platform this registration is another client of (same issuer); null: it is a platform itself. */
    joinedPlatformId: ref('joined_platform_id').references((): AnyPgColumn => ltiPlatforms.id),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    unique('lti_platforms_issuer_client_key').on(t.issuer, t.clientId),
    check('lti_platforms_not_joined_to_itself', sql`${t.joinedPlatformId} is distinct from ${t.id}`),
  ],
);

/** Deployment allowlist: ltijs only checks that a deployment id is present, we check it is one we know. */
export const ltiDeployments = pgTable(
  'lti_deployments',
  {
    id: id(),
    platformId: ref('platform_id').notNull().references(() => ltiPlatforms.id, { onDelete: 'cascade' }),
    deploymentId: text('deployment_id').notNull(),
    label: text('label'),
    /**
     * The deployment whose courses this one's launches open, when its registration was joined to another platform:
     * the same LMS course (context) is then one course here, whichever registration launched it (Moodle's and
     * Canvas's context ids are unique in the whole LMS). Null: its own courses.
     */
    coursesOf: text('courses_of'),
    createdAt: createdAt(),
  },
  (t) => [unique('lti_deployments_platform_deployment_key').on(t.platformId, t.deploymentId)],
);

/**
 * Nonces seen in id_tokens, kept at least as long as a token is accepted (ltijs keeps them 10 s, so a token
 * accepted for longer could be replayed). The primary key makes the check-and-insert atomic.
 */
export const ltiNonces = pgTable(
  'lti_nonces',
  {
    issuer: text('issuer').notNull(),
    nonce: text('nonce').notNull(),
    expiresAt: at('expires_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.issuer, t.nonce] }), index('lti_nonces_expires_idx').on(t.expiresAt)],
);

/**
 * One-time links for LTI Dynamic Registration (the open endpoint would be an SSRF and a takeover). Each link says
 * who made it and whom it is for: a platform administrator's link registers another client of their own LMS
 * (`issuer` = their platform's issuer); an operator's link (CLI) registers the LMS at `issuer`, or any LMS not
 * registered yet when `issuer` is null. A registration never changes an existing (issuer, client).
 */
export const registrationInvites = pgTable('registration_invites', {
  id: id(),
  tokenHash: text('token_hash').notNull().unique(),
  note: text('note'),
  createdBy: text('created_by').notNull(),
  /** The platform whose administrator made the link; null for an operator's link (CLI). */
  createdByPlatformId: ref('created_by_platform_id').references(() => ltiPlatforms.id, { onDelete: 'cascade' }),
  /** The only issuer this link may register (compared exactly); null: any issuer not registered yet. */
  issuer: text('issuer'),
  /**
   * The platform the new registration joins (the administrator's decision when making the link), null: it becomes
   * a platform of its own.
   */
  joinPlatformId: ref('join_platform_id').references(() => ltiPlatforms.id, { onDelete: 'cascade' }),
  expiresAt: at('expires_at').notNull(),
  usedAt: at('used_at'),
  /** Why a spent link registered nothing (shown to the administrators who made it). */
  outcome: text('outcome'),
  platformId: ref('platform_id').references(() => ltiPlatforms.id, { onDelete: 'set null' }),
  createdAt: createdAt(),
});

export const courses = pgTable(
  'courses',
  {
    id: id(),
    platformId: ref('platform_id').notNull().references(() => ltiPlatforms.id),
    deploymentId: text('deployment_id').notNull(),
    contextId: text('context_id').notNull(),
    title: text('title').notNull().default(''),
    label: text('label').notNull().default(''),
    /** The course's roster service (LTI NRPS), from the launches; null when the LMS offers none. */
    membershipsUrl: text('memberships_url'),
    /** The registration whose client may read `membershipsUrl` (the one that launched with it); null: the course's platform. */
    rosterRegistrationId: ref('roster_registration_id').references(() => ltiPlatforms.id),
    /** When the roster was last read from the LMS (null: never). */
    rosterSyncedAt: at('roster_synced_at'),
    /** The course's page in the LMS (from the launches' return URL): where e-mails send people, as the tool opens only through a launch. */
    lmsUrl: text('lms_url'),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    unique('courses_platform_deployment_context_key').on(t.platformId, t.deploymentId, t.contextId),
    // Lets a row that names a course and a platform hold them consistent with one foreign key (cost_ledger).
    unique('courses_id_platform_key').on(t.id, t.platformId),
  ],
);

export const users = pgTable(
  'users',
  {
    id: id(),
    platformId: ref('platform_id').notNull().references(() => ltiPlatforms.id),
    sub: text('sub').notNull(),
    name: text('name'),
    givenName: text('given_name'),
    familyName: text('family_name'),
    email: text('email'),
    lastLaunchAt: at('last_launch_at'),
    /** Their last launch as an administrator of the platform (null: never): who gets the administrators' e-mail. */
    administratorAt: at('administrator_at'),
    /** When this person's data was erased on request: the row stays, nameless, so scores and decisions keep their shape. */
    erasedAt: at('erased_at'),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [unique('users_platform_sub_key').on(t.platformId, t.sub)],
);

export const ROLES = ['student', 'instructor', 'administrator'] as const;
export type Role = (typeof ROLES)[number];

export const memberships = pgTable(
  'memberships',
  {
    courseId: ref('course_id').notNull().references(() => courses.id, { onDelete: 'cascade' }),
    userId: ref('user_id').notNull().references(() => users.id, { onDelete: 'cascade' }),
    role: text('role').$type<Role>().notNull(),
    /** The LTI role URIs of the last launch, kept for audit. */
    ltiRoles: text('lti_roles').array().notNull().default(sql`'{}'::text[]`),
    /** False once the LMS roster (NRPS) says the person left the course (or no longer lists them). */
    active: boolean('active').notNull().default(true),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    primaryKey({ columns: [t.courseId, t.userId] }),
    index('memberships_user_idx').on(t.userId),
    check('memberships_role_check', sql`${t.role} in ('student', 'instructor', 'administrator')`),
  ],
);
