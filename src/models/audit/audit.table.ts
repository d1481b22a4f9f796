import { sql } from 'drizzle-orm';
import { bigint, index, jsonb, pgTable, text } from 'drizzle-orm/pg-core';
import { courses, ltiPlatforms, users } from '../tenancy/tenancy.table.js';
import { createdAt, id, ref } from '../columns.js';

/**
 * Who did what to which record; every provider interaction too. Append-only, enforced by the database (a trigger
 * refuses UPDATE, DELETE and TRUNCATE, whoever asks), and chained: the sealing job gives each row, in the order it
 * seals them, a sequence number and `hash = sha256(previous hash | the row)`, so a row changed or removed behind
 * the database's back breaks the chain at that row (`audit-chain.service.ts` verifies it). Sealing after the
 * commit, not in the inserting transaction, keeps every audited transaction from queueing on one lock.
 */
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
    /** Position in the hash chain (null until sealed); the only columns the trigger lets change, once. */
    sealSeq: bigint('seal_seq', { mode: 'number' }).unique(),
    hash: text('hash'),
  },
  (t) => [
    index('audit_log_unsealed_idx').on(t.id).where(sql`${t.hash} is null`),
    index('audit_log_platform_action_idx').on(t.platformId, t.action, t.createdAt),
    index('audit_log_platform_idx').on(t.platformId, t.createdAt),
    index('audit_log_entity_idx').on(t.entityType, t.entityId),
  ],
);
