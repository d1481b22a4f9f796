import { sql } from 'drizzle-orm';
import { check, index, integer, pgTable, primaryKey, text } from 'drizzle-orm/pg-core';
import { courses, ltiPlatforms, users } from '../tenancy/tenancy.table.js';
import { at, createdAt, id, ref, updatedAt } from '../columns.js';

/** In-app notices: to one user, or to every administrator of a platform (user null). */
export const notifications = pgTable(
  'notifications',
  {
    id: id(),
    platformId: ref('platform_id').notNull().references(() => ltiPlatforms.id),
    courseId: ref('course_id').references(() => courses.id),
    userId: ref('user_id').references(() => users.id),
    kind: text('kind').notNull(),
    severity: text('severity').$type<'info' | 'warning' | 'error'>().notNull().default('info'),
    title: text('title').notNull(),
    body: text('body').notNull().default(''),
    link: text('link'),
    readAt: at('read_at'),
    /** The event it reports, once: a second attempt to report the same event (a retried job) inserts nothing. */
    dedupeKey: text('dedupe_key').unique(),
    createdAt: createdAt(),
  },
  (t) => [
    index('notifications_user_idx').on(t.platformId, t.userId, t.createdAt),
    check('notifications_severity_check', sql`${t.severity} in ('info', 'warning', 'error')`),
  ],
);

/** A platform's own wording of an event's notice (subject and body templates); absent: the default wording. */
export const notificationTemplates = pgTable(
  'notification_templates',
  {
    platformId: ref('platform_id').notNull().references(() => ltiPlatforms.id),
    kind: text('kind').notNull(),
    subject: text('subject').notNull(),
    body: text('body').notNull(),
    updatedBy: ref('updated_by').references(() => users.id),
    updatedAt: updatedAt(),
  },
  (t) => [primaryKey({ columns: [t.platformId, t.kind] })],
);

export const EMAIL_FREQUENCIES = ['immediately', 'daily', 'weekly', 'never'] as const;
export type EmailFrequency = (typeof EMAIL_FREQUENCIES)[number];

/** A person's e-mail choices; no row: every event by e-mail, immediately. */
export const notificationPreferences = pgTable(
  'notification_preferences',
  {
    userId: ref('user_id').primaryKey().references(() => users.id, { onDelete: 'cascade' }),
    /** Events they do not want by e-mail (the inbox still shows them). */
    emailOff: text('email_off').array().notNull().default(sql`'{}'::text[]`),
    emailFrequency: text('email_frequency').$type<EmailFrequency>().notNull().default('immediately'),
    /** When they used the one-click unsubscribe link (frequency became never). */
    unsubscribedAt: at('unsubscribed_at'),
    updatedAt: updatedAt(),
  },
  (t) => [check('notification_preferences_frequency_check', sql`${t.emailFrequency} in ('immediately', 'daily', 'weekly', 'never')`)],
);

export const EMAIL_STATUSES = ['held', 'pending', 'sending', 'sent', 'failed', 'bounced', 'merged', 'skipped'] as const;
export type EmailStatus = (typeof EMAIL_STATUSES)[number];

/**
 * E-mail to send, one row per notice and recipient (or per digest), written in the transaction that writes the
 * notice, so a notice that exists is mailed and one that does not is not. `held`: waiting for the person's digest;
 * `pending`: due at `next_attempt_at`; `sending`: claimed by a worker until `lease_until`; `merged`: sent inside
 * the digest `merged_into`; `bounced`: the mail server refused the address for good; `skipped`: no mail server.
 */
export const emailOutbox = pgTable(
  'email_outbox',
  {
    id: id(),
    platformId: ref('platform_id').notNull().references(() => ltiPlatforms.id),
    userId: ref('user_id').notNull().references(() => users.id, { onDelete: 'cascade' }),
    notificationId: ref('notification_id').references(() => notifications.id, { onDelete: 'cascade' }),
    kind: text('kind').notNull(),
    toAddress: text('to_address').notNull(),
    subject: text('subject').notNull(),
    body: text('body').notNull(),
    /** Where the e-mail's button goes: the course or activity in the LMS (null: the LMS is not known). */
    lmsUrl: text('lms_url'),
    status: text('status').$type<EmailStatus>().notNull(),
    attempts: integer('attempts').notNull().default(0),
    nextAttemptAt: at('next_attempt_at').notNull().defaultNow(),
    leaseUntil: at('lease_until'),
    lastError: text('last_error'),
    messageId: text('message_id'),
    sentAt: at('sent_at'),
    mergedInto: ref('merged_into'),
    createdAt: createdAt(),
  },
  (t) => [
    index('email_outbox_due_idx').on(t.status, t.nextAttemptAt),
    index('email_outbox_user_idx').on(t.userId, t.status),
    index('email_outbox_platform_idx').on(t.platformId, t.createdAt),
    check('email_outbox_status_check', sql`${t.status} in ('held', 'pending', 'sending', 'sent', 'failed', 'bounced', 'merged', 'skipped')`),
  ],
);
