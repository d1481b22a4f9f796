import { sql } from 'drizzle-orm';
import { check, integer, jsonb, pgTable, primaryKey, text } from 'drizzle-orm/pg-core';
import { ltiPlatforms, users } from '../tenancy/tenancy.table.js';
import { batches } from '../batches/batches.table.js';
import { at, ref, updatedAt } from '../columns.js';

export const FAILOVER_MODES = ['off', 'automatic'] as const;
export type FailoverMode = (typeof FAILOVER_MODES)[number];

/**
 * A platform's failover policy (issue 20, item 6). No row means the defaults: off (a batch that fails or expires
 * sends its unfinished items back to the queue, as before failover existed), providers tried in the order OpenAI,
 * Anthropic, the model at the next provider found by tier (data/prices/anthropic.yml `stand_ins`), and an SLA of
 * 24 hours, the providers' own window.
 */
export const providerFailoverSettings = pgTable(
  'provider_failover_settings',
  {
    platformId: ref('platform_id').primaryKey().references(() => ltiPlatforms.id),
    mode: text('mode').$type<FailoverMode>().notNull().default('off'),
    /** The providers in the order failover tries them (each still needs the course's approval). */
    providerOrder: text('provider_order').array().notNull().default(sql`'{openai,anthropic}'::text[]`),
    /** Provider → the model its failover batches use; a provider not named gets the same tier's model. */
    failoverModels: jsonb('failover_models').$type<Record<string, string>>().notNull().default(sql`'{}'::jsonb`),
    /** A batch at a provider longer than this (since it was sent) is past its SLA: cancelled there and failed over. */
    slaMinutes: integer('sla_minutes').notNull().default(1440),
    updatedBy: ref('updated_by').references(() => users.id),
    updatedAt: updatedAt(),
  },
  (t) => [
    check('provider_failover_settings_mode_check', sql`${t.mode} in ('off', 'automatic')`),
    check('provider_failover_settings_sla_check', sql`${t.slaMinutes} between 15 and 1440`),
  ],
);

/**
 * A provider marked unhealthy for a platform: set when a batch there failed, expired or passed its SLA under an
 * automatic failover policy, cleared only by a probe that succeeds (the worker's `probe-providers` job). While it is
 * set, new batches of courses that approve another provider go there instead. The row stays after it is cleared,
 * with the last probe, so the Providers page can say when the provider came back.
 */
export const providerHealthMarks = pgTable(
  'provider_health_marks',
  {
    platformId: ref('platform_id').notNull().references(() => ltiPlatforms.id),
    provider: text('provider').notNull(),
    /** Null: healthy again (a probe succeeded at cleared_at). */
    unhealthySince: at('unhealthy_since'),
    reason: text('reason').notNull(),
    batchId: ref('batch_id').references(() => batches.id),
    clearedAt: at('cleared_at'),
    lastProbeAt: at('last_probe_at'),
    lastProbeError: text('last_probe_error'),
    probes: integer('probes').notNull().default(0),
    updatedAt: updatedAt(),
  },
  (t) => [primaryKey({ columns: [t.platformId, t.provider] })],
);
