import { sql } from 'drizzle-orm';
import type { Db } from '../../db/db.js';

/** A sync a worker has claimed: which assessment, and which of its decisions it is about to post. */
export interface ClaimedSync {
  id: number;
  decisionSeq: number;
}

/**
 * Claims due pending syncs with a lease (conditional update, SKIP LOCKED): two workers never hold the same
 * one, and a worker that dies mid-post frees it when the lease runs out.
 */
export async function claimDueSyncs(db: Db, options: { limit: number; leaseMs: number; assessmentId?: number }): Promise<ClaimedSync[]> {
  const rows = await db.execute<{ id: number; decision_seq: number }>(sql`
    update assessments set grade_sync_lease_until = now() + make_interval(secs => ${options.leaseMs / 1000})
    where id in (
      select id from assessments
      where grade_sync_status = 'pending'
        and (grade_sync_next_at is null or grade_sync_next_at <= now())
        and (grade_sync_lease_until is null or grade_sync_lease_until < now())
        ${options.assessmentId ? sql`and id = ${options.assessmentId}` : sql``}
      order by grade_sync_next_at nulls first, id
      limit ${options.limit}
      for update skip locked)
    returning id, decision_seq`);
  return rows.rows.map((r) => ({ id: Number(r.id), decisionSeq: r.decision_seq }));
}

/** Everything a grade post needs, read fresh after the claim. */
export interface SyncFacts {
  id: number;
  platformId: number;
  courseId: number;
  taskId: number;
  decisionSeq: number;
  reviewStatus: string;
  score: number | null;
  overrideScore: number | null;
  maxScore: number;
  reviewedAt: Date | null;
  taskTitle: string;
  taskMaxScore: number;
  lineItemUrl: string | null;
  /** The task's own line item container, else the one a launch of another task of the course reported. */
  lineItemsUrl: string | null;
  resourceLinkId: string | null;
  studentSub: string;
  /** The registration whose client may use those URLs (the one whose launch named them), and its issuer and client id. */
  registrationId: number;
  issuer: string;
  clientId: string;
  /** Which attempt's grade is the task's (the task's setting), and the best decided fraction of the student's attempts. */
  attemptPolicy: 'last' | 'best';
  bestFraction: number | null;
}

export async function loadSyncFacts(db: Db, id: number): Promise<SyncFacts | undefined> {
  return (await loadSyncFactsOf(db, [id])).get(id);
}

/** The facts of several claims in one query (a run's chunk), by assessment id. */
export async function loadSyncFactsOf(db: Db, ids: number[]): Promise<Map<number, SyncFacts>> {
  const rows = await db.execute<{
    id: number; platform_id: number; course_id: number; task_id: number; decision_seq: number; review_status: string; score: number | null;
    override_score: number | null; max_score: number; reviewed_at: Date | null; task_title: string; task_max_score: number; line_item_url: string | null;
    line_items_url: string | null; resource_link_id: string | null; student_sub: string; registration_id: number; issuer: string; client_id: string;
    attempt_policy: 'last' | 'best'; best_fraction: number | null;
  }>(sql`
    select a.id, a.platform_id, a.course_id, a.task_id, a.decision_seq, a.review_status, a.score, a.override_score, a.max_score, a.reviewed_at,
           t.title as task_title, t.max_score as task_max_score, t.line_item_url, t.resource_link_id,
           coalesce(t.line_items_url, other.line_items_url) as line_items_url,
           u.sub as student_sub, p.id as registration_id, p.issuer, p.client_id, t.attempt_policy,
           (select max((case when x.review_status = 'overridden' then x.override_score else x.score end) / x.max_score)::float8
            from assessments x join submissions sx on sx.id = x.submission_id
            where sx.task_id = a.task_id and sx.student_id = s.student_id and x.review_status in ('approved', 'overridden')) as best_fraction
    from assessments a
    join tasks t on t.id = a.task_id
    join submissions s on s.id = a.submission_id
    join users u on u.id = s.student_id
    -- A task without URLs of its own borrows another task's container, with the client that may use it.
    left join lateral (
      select o.line_items_url, o.registration_id from tasks o
      where o.course_id = t.course_id and o.line_items_url is not null order by o.id limit 1
    ) other on t.line_item_url is null and t.line_items_url is null
    join lti_platforms p on p.id = coalesce(case when other.line_items_url is null then t.registration_id else other.registration_id end, a.platform_id)
    where a.id = any(${sql.param(ids)}::bigint[])`);
  return new Map(rows.rows.map((r) => [Number(r.id), {
    id: Number(r.id),
    platformId: Number(r.platform_id),
    courseId: Number(r.course_id),
    taskId: Number(r.task_id),
    decisionSeq: r.decision_seq,
    reviewStatus: r.review_status,
    score: r.score == null ? null : Number(r.score),
    overrideScore: r.override_score == null ? null : Number(r.override_score),
    maxScore: Number(r.max_score),
    reviewedAt: r.reviewed_at ? new Date(r.reviewed_at) : null,
    taskTitle: r.task_title,
    taskMaxScore: Number(r.task_max_score),
    lineItemUrl: r.line_item_url,
    lineItemsUrl: r.line_items_url,
    resourceLinkId: r.resource_link_id,
    studentSub: r.student_sub,
    registrationId: Number(r.registration_id),
    issuer: r.issuer,
    clientId: r.client_id,
    attemptPolicy: r.attempt_policy,
    bestFraction: r.best_fraction == null ? null : Number(r.best_fraction),
  }]));
}

/** Records a post of decision `seq`, unless a newer decision came meanwhile (then that one is still to send). */
export async function markSynced(db: Db, id: number, seq: number, score: number): Promise<boolean> {
  const rows = await db.execute(sql`
    update assessments set grade_sync_status = 'synced', grade_synced_seq = ${seq}, grade_synced_at = now(), grade_synced_score = ${score},
           grade_sync_error = null, grade_sync_next_at = null, grade_sync_lease_until = null, updated_at = now()
    where id = ${id} and decision_seq = ${seq} and grade_sync_status = 'pending'`);
  return (rows.rowCount ?? 0) > 0;
}

/** Records several posts at once (a run's chunk); returns the ids recorded (the others got a newer decision meanwhile). */
export async function markSyncedMany(db: Db, posts: Array<{ id: number; seq: number; score: number }>): Promise<Set<number>> {
  if (!posts.length) return new Set();
  const rows = await db.execute<{ id: number }>(sql`
    update assessments a set grade_sync_status = 'synced', grade_synced_seq = p.seq, grade_synced_at = now(), grade_synced_score = p.score,
           grade_sync_error = null, grade_sync_next_at = null, grade_sync_lease_until = null, updated_at = now()
    from unnest(${sql.param(posts.map((p) => p.id))}::bigint[], ${sql.param(posts.map((p) => p.seq))}::int[], ${sql.param(posts.map((p) => p.score))}::numeric[]) as p(id, seq, score)
    where a.id = p.id and a.decision_seq = p.seq and a.grade_sync_status = 'pending'
    returning a.id`);
  return new Set(rows.rows.map((r) => Number(r.id)));
}

/** A failed try: pending again after `delayMs` while tries remain and the error is worth retrying, else failed. */
export async function markSyncFailure(db: Db, id: number, seq: number, failure: { message: string; retryable: boolean; delayMs: number; maxAttempts: number }): Promise<'pending' | 'failed' | null> {
  const rows = await db.execute<{ grade_sync_status: 'pending' | 'failed' }>(sql`
    update assessments set
      grade_sync_attempts = grade_sync_attempts + 1,
      grade_sync_error = ${failure.message.slice(0, 1000)},
      grade_sync_status = case when ${failure.retryable} and grade_sync_attempts + 1 < ${failure.maxAttempts} then 'pending' else 'failed' end,
      grade_sync_next_at = now() + make_interval(secs => ${failure.delayMs / 1000}),
      grade_sync_lease_until = null,
      updated_at = now()
    where id = ${id} and decision_seq = ${seq} and grade_sync_status = 'pending'
    returning grade_sync_status`);
  return rows.rows[0]?.grade_sync_status ?? null;
}

/** Lets go of a claim without recording anything (a newer decision arrived, or nothing is to be sent). */
export async function releaseClaim(db: Db, id: number): Promise<void> {
  await db.execute(sql`update assessments set grade_sync_lease_until = null where id = ${id}`);
}

/** An assessment that was claimed but has nothing to post any more (rejected meanwhile). */
export async function markNothingToSync(db: Db, id: number, seq: number): Promise<void> {
  await db.execute(sql`update assessments set grade_sync_status = 'none', grade_sync_lease_until = null where id = ${id} and decision_seq = ${seq} and grade_sync_status = 'pending'`);
}

/** How many times the grade of an assessment has been tried. */
export async function syncAttemptsOf(db: Db, assessmentId: number): Promise<number> {
  const rows = await db.execute<{ n: number }>(sql`select grade_sync_attempts as n from assessments where id = ${assessmentId}`);
  return rows.rows[0]?.n ?? 0;
}

/** Puts a claimed sync back for later without counting a try (the LMS asked us to slow down). */
export async function deferSync(db: Db, id: number, seq: number, delayMs: number): Promise<void> {
  await db.execute(sql`
    update assessments set grade_sync_next_at = now() + make_interval(secs => ${delayMs / 1000}), grade_sync_lease_until = null, updated_at = now()
    where id = ${id} and decision_seq = ${seq} and grade_sync_status = 'pending'`);
}
