import { sql } from 'drizzle-orm';
import { check, index, pgTable, text } from 'drizzle-orm/pg-core';
import { courses, ltiPlatforms, users } from '../tenancy/tenancy.table.js';
import { at, createdAt, id, ref } from '../columns.js';

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
