import { index, jsonb, pgTable, text } from 'drizzle-orm/pg-core';
import { courses, ltiPlatforms, users } from '../tenancy/tenancy.table.js';
import { createdAt, id, ref } from '../columns.js';

/** Who did what to which record; every provider interaction too. Append-only. */
export const auditLog = pgTable(
  'audit_log',
  {
    id: id(),
    platformId: ref('platform_id').references(() => ltiPlatforms.id),
    courseId: ref('course_id').references(() => courses.id),
    actorId: ref('actor_id').references(() => users.id),
    /** 'user' for a person, 'system' for the worker, a CLI, or a provider callback. */
    actorKind: text('actor_kind').$type<'user' | 'system'>().notNull(),
    action: text('action').notNull(),
    entityType: text('entity_type').notNull(),
    entityId: text('entity_id'),
    details: jsonb('details').$type<Record<string, unknown>>().notNull().default({}),
    createdAt: createdAt(),
  },
  (t) => [
    index('audit_log_platform_idx').on(t.platformId, t.createdAt),
    index('audit_log_entity_idx').on(t.entityType, t.entityId),
  ],
);
