import { sql } from 'drizzle-orm';
import type { Db } from '../../db/db.js';
import type { Priority } from './queue.table.js';

// The queue's figures for the administrator's dashboard: waiting work by model and course, and the filters' choices.

export interface ModelCapacity {
  model: string;
  pending: number;
  pendingTokens: number;
  pendingCostMicros: number;
  inFlight: number;
  inFlightTokens: number;
}

export interface QueueStats {
  pending: number;
  pendingCostMicros: number;
  pendingTokens: number;
  oldestQueuedAt: Date | null;
  byPriority: Record<Priority, number>;
  deferred: number;
  inFlight: number;
  deadLetter: number;
  models: ModelCapacity[];
}

/** Platform-wide figures: what waits, what it would cost, how old the oldest is, what is in flight per model. */
export async function queueStats(db: Db, platformId: number): Promise<QueueStats> {
  const rows = await db.execute<{
    model: string;
    pending: number;
    pending_tokens: number | null;
    pending_cost: number | null;
    oldest: Date | null;
    high: number;
    normal: number;
    low: number;
    deferred: number;
    in_flight: number;
    in_flight_tokens: number | null;
    dead: number;
  }>(sql`
    select q.model,
           count(*) filter (where q.status = 'queued')::int as pending,
           sum(q.est_input_tokens) filter (where q.status = 'queued')::int8 as pending_tokens,
           sum(q.est_cost_micros) filter (where q.status = 'queued')::int8 as pending_cost,
           min(q.created_at) filter (where q.status = 'queued') as oldest,
           count(*) filter (where q.status = 'queued' and q.priority_rank = 0)::int as high,
           count(*) filter (where q.status = 'queued' and q.priority_rank = 1)::int as normal,
           count(*) filter (where q.status = 'queued' and q.priority_rank = 2)::int as low,
           count(*) filter (where q.status = 'queued' and q.not_before > now())::int as deferred,
           count(*) filter (where q.status in ('selected', 'processing'))::int as in_flight,
           sum(q.est_input_tokens) filter (where q.status in ('selected', 'processing'))::int8 as in_flight_tokens,
           count(*) filter (where q.status = 'failed')::int as dead
    from queue_items q
    where q.platform_id = ${platformId} and q.status in ('queued', 'selected', 'processing', 'failed')
    group by q.model order by q.model`);
  const stats: QueueStats = { pending: 0, pendingCostMicros: 0, pendingTokens: 0, oldestQueuedAt: null, byPriority: { high: 0, normal: 0, low: 0 }, deferred: 0, inFlight: 0, deadLetter: 0, models: [] };
  for (const r of rows.rows) {
    stats.pending += r.pending;
    stats.pendingCostMicros += Number(r.pending_cost ?? 0);
    stats.pendingTokens += Number(r.pending_tokens ?? 0);
    const oldest = r.oldest ? new Date(r.oldest) : null;
    if (oldest && (!stats.oldestQueuedAt || oldest < stats.oldestQueuedAt)) stats.oldestQueuedAt = oldest;
    stats.byPriority.high += r.high;
    stats.byPriority.normal += r.normal;
    stats.byPriority.low += r.low;
    stats.deferred += r.deferred;
    stats.inFlight += r.in_flight;
    stats.deadLetter += r.dead;
    if (r.pending || r.in_flight) {
      stats.models.push({ model: r.model, pending: r.pending, pendingTokens: Number(r.pending_tokens ?? 0), pendingCostMicros: Number(r.pending_cost ?? 0), inFlight: r.in_flight, inFlightTokens: Number(r.in_flight_tokens ?? 0) });
    }
  }
  return stats;
}

/** Filter choices: the platform's courses, tasks and instructors (for the dashboard's selects). */
export async function filterChoices(db: Db, platformId: number) {
  const [coursesRows, tasksRows, instructorRows] = await Promise.all([
    db.execute<{ id: number; title: string }>(sql`select id, title from courses where platform_id = ${platformId} order by title, id`),
    db.execute<{ id: number; title: string; course_id: number }>(sql`
      select t.id, t.title, t.course_id from tasks t join courses c on c.id = t.course_id where c.platform_id = ${platformId} and t.status = 'active' order by t.title, t.id`),
    db.execute<{ id: number; name: string | null }>(sql`
      select distinct u.id, u.name from users u join memberships m on m.user_id = u.id and m.role = 'instructor'
      where u.platform_id = ${platformId} order by u.name, u.id`),
  ]);
  return {
    courses: coursesRows.rows.map((r) => ({ id: Number(r.id), title: r.title || `Course ${r.id}` })),
    tasks: tasksRows.rows.map((r) => ({ id: Number(r.id), title: r.title, courseId: Number(r.course_id) })),
    instructors: instructorRows.rows.map((r) => ({ id: Number(r.id), name: r.name || `User ${r.id}` })),
  };
}

export interface CourseShare {
  courseId: number;
  courseTitle: string;
  items: number;
  estCostMicros: number;
}

/** Queued items and their estimated cost per course (the dashboard's chart), largest first. */
export async function pendingByCourse(db: Db, platformId: number, limit = 12): Promise<CourseShare[]> {
  const rows = await db.execute<{ course_id: number; title: string | null; n: number; cost: number | null }>(sql`
    select g.course_id, c.title, g.n, g.cost from (
      select q.course_id, count(*)::int as n, sum(q.est_cost_micros)::int8 as cost
      from queue_items q where q.platform_id = ${platformId} and q.status = 'queued' group by q.course_id order by n desc, q.course_id limit ${limit}) g
    join courses c on c.id = g.course_id order by g.n desc, g.course_id`);
  return rows.rows.map((r) => ({ courseId: Number(r.course_id), courseTitle: r.title || `Course ${r.course_id}`, items: r.n, estCostMicros: Number(r.cost ?? 0) }));
}

/**
 * Place in the platform's queue: queued, due items that an administrator's "by priority" batch takes first (higher
 * priority, then older), plus this one. The dashboard index (platform, status, priority rank, created) serves it.
 */
export async function queuePosition(db: Db, platformId: number, itemId: number, priorityRank: number, createdAt: Date): Promise<number> {
  const rows = await db.execute<{ n: number }>(sql`
    select count(*)::int as n from queue_items q
    where q.platform_id = ${platformId} and q.status = 'queued' and (q.not_before is null or q.not_before <= now())
      and (q.priority_rank, q.created_at, q.id) < (${priorityRank}, ${createdAt.toISOString()}::timestamptz, ${itemId})`);
  return Number(rows.rows[0]?.n ?? 0) + 1;
}
