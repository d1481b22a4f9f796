import { sql } from 'drizzle-orm';
import type { Db } from '../../db/db.js';

/** The reads the cost optimizer's inputs are made of (optimizer.service.ts), one query each. */

/** Per course, the providers its work may be batched with: LLM on, not real time only, approved ∩ allowed. */
export async function batchApprovals(db: Db, courseIds: number[]): Promise<Map<number, Set<string>>> {
  if (!courseIds.length) return new Map();
  const rows = await db.execute<{ id: number; providers: string[] | null }>(sql`
    select c.id, case when coalesce(p.llm_allowed, false) and not coalesce(p.realtime_only, false)
        then array(select unnest(coalesce(p.approved_providers, '{openai}')) intersect select unnest(coalesce(pp.allowed_providers, '{openai,anthropic}')))
        else '{}'::text[] end as providers
    from courses c
    left join course_privacy p on p.course_id = c.id
    left join platform_privacy pp on pp.platform_id = c.platform_id
    where c.id = any(${sql.param(courseIds)}::bigint[])`);
  return new Map(rows.rows.map((r) => [Number(r.id), new Set(r.providers ?? [])]));
}

/**
 * Per provider, the median and 95th percentile of the platform's completed batches' turnaround (sent → finished)
 * over the last 90 days, from at most its last 200 batches.
 */
export async function providerTurnarounds(db: Db, platformId: number): Promise<Array<{ provider: string; p50Ms: number; p95Ms: number; batches: number }>> {
  const rows = await db.execute<{ provider: string; p50: number; p95: number; n: number }>(sql`
    select provider, percentile_cont(0.5) within group (order by ms) as p50, percentile_cont(0.95) within group (order by ms) as p95, count(*)::int as n
    from (
      select provider, extract(epoch from finished_at - submitted_at) * 1000 as ms,
             row_number() over (partition by provider order by finished_at desc) as k
      from batches
      where platform_id = ${platformId} and status = 'completed' and submitted_at is not null and finished_at >= submitted_at
        and finished_at > now() - interval '90 days'
    ) b
    where k <= 200
    group by provider`);
  return rows.rows.map((r) => ({ provider: r.provider, p50Ms: Number(r.p50), p95Ms: Number(r.p95), batches: Number(r.n) }));
}

export interface DecidedByProvider {
  provider: string;
  promptVersionId: number;
  llm: number;
  final: number;
  decision: 'approved' | 'overridden';
  maxScore: number;
}

/** The last 200 decided LLM grades of each provider and prompt version among these (the Agreement page's pairs). */
export async function decidedByProvider(db: Db, promptVersionIds: number[]): Promise<DecidedByProvider[]> {
  if (!promptVersionIds.length) return [];
  const rows = await db.execute<{ provider: string; prompt_version_id: number; score: number; override_score: number | null; review_status: 'approved' | 'overridden'; max_score: number }>(sql`
    select provider, prompt_version_id, score, override_score, review_status, max_score from (
      select b.provider, a.prompt_version_id, a.score, a.override_score, a.review_status, a.max_score,
             row_number() over (partition by b.provider, a.prompt_version_id order by a.id desc) as k
      from assessments a join batches b on b.id = a.batch_id
      where a.prompt_version_id = any(${sql.param(promptVersionIds)}::bigint[]) and a.review_status in ('approved', 'overridden') and a.score is not null
    ) d where k <= 200`);
  return rows.rows.map((r) => ({
    provider: r.provider,
    promptVersionId: Number(r.prompt_version_id),
    llm: Number(r.score),
    final: r.review_status === 'overridden' && r.override_score !== null ? Number(r.override_score) : Number(r.score),
    decision: r.review_status,
    maxScore: Number(r.max_score),
  }));
}

/** When each item was queued and its task's due date (its deadline's facts). */
export async function itemTimes(db: Db, itemIds: number[]): Promise<Map<number, { queuedAt: Date; dueAt: Date | null }>> {
  if (!itemIds.length) return new Map();
  const rows = await db.execute<{ id: number; created_at: Date; due_at: Date | null }>(sql`
    select q.id, q.created_at, t.due_at from queue_items q join tasks t on t.id = q.task_id where q.id = any(${sql.param(itemIds)}::bigint[])`);
  return new Map(rows.rows.map((r) => [Number(r.id), { queuedAt: new Date(r.created_at), dueAt: r.due_at ? new Date(r.due_at) : null }]));
}

/** Why the cost optimizer sent a batch where it went (kept in its 'batch.created' audit entry), or null. */
export async function optimizerExplanationOf(db: Db, platformId: number, batchId: number): Promise<{ text: string; options: Array<{ provider: string; model: string; costMicros: number; p50Ms: number; p95Ms: number; history: number }> } | null> {
  const rows = await db.execute<{ optimizer: { text: string; options: [] } | null }>(sql`
    select details->'optimizer' as optimizer from audit_log
    where platform_id = ${platformId} and action = 'batch.created' and entity_type = 'batch' and entity_id = ${String(batchId)} and details ? 'optimizer'
    limit 1`);
  return rows.rows[0]?.optimizer ?? null;
}
