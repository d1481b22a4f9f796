import { sql } from 'drizzle-orm';
import type { Db } from '../../db/db.js';
import type { FailoverMode } from './failover.table.js';

/** The SQL of failover: a platform's policy, its providers' health marks, and the batch rows failover reads and writes. */

export interface FailoverSettings {
  mode: FailoverMode;
  providerOrder: string[];
  failoverModels: Record<string, string>;
  slaMinutes: number;
  /** False: no row, these are the defaults. */
  saved: boolean;
}

export const DEFAULT_FAILOVER: FailoverSettings = { mode: 'off', providerOrder: ['openai', 'anthropic'], failoverModels: {}, slaMinutes: 1440, saved: false };

export async function findFailoverSettings(db: Db, platformId: number): Promise<FailoverSettings> {
  const rows = await db.execute<{ mode: FailoverMode; provider_order: string[]; failover_models: Record<string, string>; sla_minutes: number }>(sql`
    select mode, provider_order, failover_models, sla_minutes from provider_failover_settings where platform_id = ${platformId}`);
  const r = rows.rows[0];
  if (!r) return DEFAULT_FAILOVER;
  return { mode: r.mode, providerOrder: r.provider_order, failoverModels: r.failover_models, slaMinutes: Number(r.sla_minutes), saved: true };
}

export async function saveFailoverSettings(db: Db, platformId: number, userId: number, s: Omit<FailoverSettings, 'saved'>): Promise<void> {
  await db.execute(sql`
    insert into provider_failover_settings (platform_id, mode, provider_order, failover_models, sla_minutes, updated_by)
    values (${platformId}, ${s.mode}, ${sql.param(s.providerOrder)}::text[], ${JSON.stringify(s.failoverModels)}::jsonb, ${s.slaMinutes}, ${userId})
    on conflict (platform_id) do update set mode = excluded.mode, provider_order = excluded.provider_order,
      failover_models = excluded.failover_models, sla_minutes = excluded.sla_minutes, updated_by = excluded.updated_by, updated_at = now()`);
}

export interface HealthMark {
  platformId: number;
  provider: string;
  unhealthySince: Date | null;
  reason: string;
  batchId: number | null;
  clearedAt: Date | null;
  lastProbeAt: Date | null;
  lastProbeError: string | null;
  probes: number;
}

type MarkRow = { platform_id: number; provider: string; unhealthy_since: Date | string | null; reason: string; batch_id: number | null; cleared_at: Date | string | null; last_probe_at: Date | string | null; last_probe_error: string | null; probes: number };
// Raw statements return timestamps as text (drizzle leaves them unparsed): made dates here, in one place.
const date = (v: Date | string | null): Date | null => (v === null ? null : new Date(v));
const toMark = (r: MarkRow): HealthMark => ({
  platformId: Number(r.platform_id),
  provider: r.provider,
  unhealthySince: date(r.unhealthy_since),
  reason: r.reason,
  batchId: r.batch_id === null ? null : Number(r.batch_id),
  clearedAt: date(r.cleared_at),
  lastProbeAt: date(r.last_probe_at),
  lastProbeError: r.last_probe_error,
  probes: Number(r.probes),
});

/** The platform's marks, set or cleared (a cleared one remembers its last probe). */
export async function healthMarks(db: Db, platformId: number): Promise<HealthMark[]> {
  const rows = await db.execute<MarkRow>(sql`select * from provider_health_marks where platform_id = ${platformId} order by provider`);
  return rows.rows.map(toMark);
}

/**
 * Marks a provider unhealthy (or keeps it so, with the newest reason): skipped until a probe succeeds. The first
 * `unhealthy_since` stays while it is marked; true when it was healthy before this.
 */
export async function markUnhealthy(db: Db, platformId: number, provider: string, reason: string, batchId: number | null): Promise<boolean> {
  const rows = await db.execute<{ was_healthy: boolean }>(sql`
    with before as (select unhealthy_since from provider_health_marks where platform_id = ${platformId} and provider = ${provider})
    insert into provider_health_marks (platform_id, provider, unhealthy_since, reason, batch_id)
    values (${platformId}, ${provider}, now(), ${reason}, ${batchId})
    on conflict (platform_id, provider) do update set unhealthy_since = coalesce(provider_health_marks.unhealthy_since, now()),
      reason = excluded.reason, batch_id = excluded.batch_id, cleared_at = null, updated_at = now()
    returning (select coalesce((select unhealthy_since is null from before), true)) as was_healthy`);
  return rows.rows[0]?.was_healthy ?? false;
}

/** Marks due for a probe: set, and not probed in the last `intervalMs`. */
export async function marksDueForProbe(db: Db, intervalMs: number, limit = 50): Promise<HealthMark[]> {
  const rows = await db.execute<MarkRow>(sql`
    select * from provider_health_marks
    where unhealthy_since is not null and (last_probe_at is null or last_probe_at <= now() - ${intervalMs} * interval '1 millisecond')
    order by last_probe_at nulls first, platform_id limit ${limit}`);
  return rows.rows.map(toMark);
}

/** A probe's outcome: a success clears the mark (once: only a mark still set), a failure is recorded beside it. */
export async function recordProbe(db: Db, platformId: number, provider: string, error: string | null): Promise<boolean> {
  const rows = await db.execute(sql`
    update provider_health_marks set last_probe_at = now(), probes = probes + 1, last_probe_error = ${error}, updated_at = now(),
      unhealthy_since = case when ${error === null} then null else unhealthy_since end,
      cleared_at = case when ${error === null} then now() else cleared_at end
    where platform_id = ${platformId} and provider = ${provider} and unhealthy_since is not null
    returning provider`);
  return rows.rows.length > 0;
}

/**
 * The queue items a finished batch sent back to the queue without running them (its requests expired or cancelled,
 * the items queued again and in no other batch since): what failover may move. Items the batch graded, and items
 * whose request failed (an answer about the request, retried the ordinary way), are not among them.
 */
export async function notRunItemsOf(db: Db, batchId: number): Promise<number[]> {
  const rows = await db.execute<{ id: number }>(sql`
    select q.id from batch_requests br join queue_items q on q.id = br.queue_item_id
    where br.batch_id = ${batchId} and br.status in ('expired', 'cancelled') and q.status = 'queued' and q.batch_id is null
      and not exists (select 1 from batch_requests later where later.queue_item_id = q.id and later.id > br.id)
    order by q.id`);
  return rows.rows.map((r) => Number(r.id));
}

/** Says on queued items why they were not failed over (the queue and the task view show the last error). */
export async function noteOnQueuedItems(db: Db, itemIds: number[], message: string): Promise<void> {
  if (!itemIds.length) return;
  await db.execute(sql`update queue_items set last_error = ${message}, updated_at = now() where id = any(${sql.param(itemIds)}::bigint[]) and status = 'queued'`);
}

/** The failover batch: where its items came from and why, and confirmed at once (the policy is the confirmation). */
export async function markFailoverBatch(db: Db, batchId: number, fromBatchId: number, reason: string): Promise<void> {
  await db.execute(sql`
    update batches set failed_over_from = ${fromBatchId}, failover_reason = ${reason}, submit_requested_at = now(), updated_at = now()
    where id = ${batchId} and status = 'created'`);
}

/** Batches made while their items' provider was marked unhealthy: why they went elsewhere. */
export async function noteRerouted(db: Db, batchIds: number[], reason: string): Promise<void> {
  if (!batchIds.length) return;
  await db.execute(sql`update batches set failover_reason = ${reason}, updated_at = now() where id = any(${sql.param(batchIds)}::bigint[])`);
}

/** Asks for the cancel of a batch past the platform's SLA, once, with the reason (beside markTimedOut's timeout). */
export async function markOverdue(db: Db, batchId: number, status: string, reason: string): Promise<boolean> {
  const marked = await db.execute(sql`
    update batches set cancel_requested_at = now(), overdue_at = now(), error = ${reason}, updated_at = now()
    where id = ${batchId} and cancel_requested_at is null and status = ${status} returning id`);
  return marked.rows.length > 0;
}

/** One failover: a batch whose unfinished items went on in another batch (at another provider). */
export interface FailoverEvent {
  fromId: number;
  fromProvider: string;
  fromModel: string;
  /** How the old batch ended: failed, expired, or cancelled past its time limit (`overdue`). */
  fromStatus: string;
  overdue: boolean;
  toId: number;
  toProvider: string;
  toModel: string;
  /** The items that moved: the new batch's requests. */
  items: number;
  at: Date;
}

type EventRow = { from_id: number; from_provider: string; from_model: string; from_status: string; overdue: boolean; to_id: number; to_provider: string; to_model: string; items: number; at: Date | string };

async function failoverEvents(db: Db, platformId: number, where: ReturnType<typeof sql>, limit: number): Promise<FailoverEvent[]> {
  const rows = await db.execute<EventRow>(sql`
    select o.id as from_id, o.provider as from_provider, o.model as from_model, o.status as from_status, o.overdue_at is not null as overdue,
      n.id as to_id, n.provider as to_provider, n.model as to_model, n.request_total as items, n.created_at as at
    from batches n join batches o on o.id = n.failed_over_from and o.platform_id = n.platform_id
    where n.platform_id = ${platformId} and ${where}
    order by n.id desc limit ${limit}`);
  return rows.rows.map((r) => ({
    fromId: Number(r.from_id),
    fromProvider: r.from_provider,
    fromModel: r.from_model,
    fromStatus: r.from_status,
    overdue: Boolean(r.overdue),
    toId: Number(r.to_id),
    toProvider: r.to_provider,
    toModel: r.to_model,
    items: Number(r.items),
    at: new Date(r.at),
  }));
}

/** The platform's failovers of the last `days` days, newest first (the Batches and Providers pages). */
export function recentFailovers(db: Db, platformId: number, days = 7, limit = 10): Promise<FailoverEvent[]> {
  return failoverEvents(db, platformId, sql`n.created_at >= now() - ${days} * interval '1 day'`, limit);
}

export interface FailoverLinks {
  /** This batch carries the unfinished items of another one. */
  from: FailoverEvent | null;
  /** This batch's unfinished items went on in another one. */
  to: FailoverEvent | null;
}

/** A batch's page: the failover that made it, and the one it made. */
export async function failoverLinks(db: Db, platformId: number, batchId: number): Promise<FailoverLinks> {
  const events = await failoverEvents(db, platformId, sql`(n.id = ${batchId} or n.failed_over_from = ${batchId})`, 2);
  return { from: events.find((e) => e.toId === batchId) ?? null, to: events.find((e) => e.fromId === batchId) ?? null };
}

export interface HealthFigures {
  provider: string;
  /** Batches that ended in the last 24 hours, and how. */
  ended: number;
  failed: number;
  expired: number;
  overdue: number;
  /** Sent batches still running past the SLA now (stuck). */
  stuck: number;
  /** Batches that ended (any way) longer than the SLA after they were sent. */
  pastSla: number;
  /** Median time from sent to finished of those that completed, in minutes; null when none did. */
  medianTurnaroundMinutes: number | null;
  /** Requests resolved in those batches, and those that failed (errors, unreadable, missing; not duplicates). */
  resolvedRequests: number;
  failedRequests: number;
}

/** A platform's batches of the last 24 hours, per provider: what its health is derived from. */
export async function healthFigures(db: Db, platformId: number, slaMinutes: number): Promise<HealthFigures[]> {
  const sla = sql`${slaMinutes} * interval '1 minute'`;
  const rows = await db.execute<Record<string, unknown> & { provider: string }>(sql`
    with recent as (
      select * from batches where platform_id = ${platformId} and provider_batch_id is not null
        and (finished_at >= now() - interval '24 hours' or (finished_at is null and status in ('submitted', 'processing'))))
    select r.provider,
      count(*) filter (where finished_at is not null)::int as ended,
      count(*) filter (where status = 'failed')::int as failed,
      count(*) filter (where status = 'expired')::int as expired,
      count(*) filter (where overdue_at is not null)::int as overdue,
      count(*) filter (where finished_at is null and submitted_at < now() - ${sla})::int as stuck,
      count(*) filter (where finished_at is not null and finished_at - submitted_at > ${sla})::int as past_sla,
      (percentile_cont(0.5) within group (order by extract(epoch from finished_at - submitted_at) / 60) filter (where status = 'completed'))::float8 as median_minutes,
      coalesce(sum(q.resolved), 0)::int as resolved, coalesce(sum(q.failed), 0)::int as failed_requests
    from recent r
    left join lateral (
      select count(*) filter (where br.status <> 'pending') as resolved,
             count(*) filter (where br.status = 'failed' and br.error_code is distinct from 'duplicate_result' and br.error_code is distinct from 'not_sent') as failed
      from batch_requests br where br.batch_id = r.id) q on r.finished_at is not null
    group by r.provider order by r.provider`);
  return rows.rows.map((r) => ({
    provider: r.provider,
    ended: Number(r.ended),
    failed: Number(r.failed),
    expired: Number(r.expired),
    overdue: Number(r.overdue),
    stuck: Number(r.stuck),
    pastSla: Number(r.past_sla),
    medianTurnaroundMinutes: r.median_minutes == null ? null : Number(r.median_minutes),
    resolvedRequests: Number(r.resolved),
    failedRequests: Number(r.failed_requests),
  }));
}
