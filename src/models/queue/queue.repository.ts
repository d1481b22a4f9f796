import { sql, type SQL } from 'drizzle-orm';
import type { Db } from '../../db/db.js';
import { dateRange, type QueueFilter, type QueueSort } from './queue.filters.js';
import { queueItems, type Priority, type QueueStatus } from './queue.table.js';
import type { QueueAction, Selection } from './queue.schema.js';

export type QueueItemRow = typeof queueItems.$inferSelect;
export type NewQueueItem = typeof queueItems.$inferInsert;

export const PRIORITY_RANK: Record<Priority, number> = { high: 0, normal: 1, low: 2 };

export async function insertQueueItem(db: Db, values: NewQueueItem): Promise<QueueItemRow> {
  const [row] = await db.insert(queueItems).values(values).returning();
  return row!;
}

/** The WHERE of a dashboard filter, always inside the administrator's platform. */
export function filterCondition(platformId: number, f: QueueFilter): SQL {
  const parts: SQL[] = [sql`q.platform_id = ${platformId}`];
  if (f.status !== 'all') parts.push(sql`q.status = ${f.status}`);
  if (f.course) parts.push(sql`q.course_id = ${f.course}`);
  if (f.task) parts.push(sql`q.task_id = ${f.task}`);
  if (f.priority) parts.push(sql`q.priority = ${f.priority}`);
  if (f.taskType) parts.push(sql`q.task_id in (select t.id from tasks t join courses c on c.id = t.course_id where c.platform_id = ${platformId} and t.task_type = ${f.taskType})`);
  if (f.instructor) parts.push(sql`q.course_id in (select m.course_id from memberships m where m.user_id = ${f.instructor} and m.role = 'instructor')`);
  const { from, to } = dateRange(f);
  if (from) parts.push(sql`q.created_at >= ${from.toISOString()}::timestamptz`);
  if (to) parts.push(sql`q.created_at < ${to.toISOString()}::timestamptz`);
  return sql.join(parts, sql` and `);
}

const ORDER: Record<QueueSort, SQL> = {
  priority: sql`q.priority_rank asc, q.created_at asc, q.id asc`,
  oldest: sql`q.created_at asc, q.id asc`,
  newest: sql`q.created_at desc, q.id desc`,
  cost: sql`q.est_cost_micros desc, q.id asc`,
  tokens: sql`q.est_input_tokens desc, q.id asc`,
  course: sql`q.course_id asc, q.priority_rank asc, q.created_at asc, q.id asc`,
  status: sql`q.status asc, q.priority_rank asc, q.created_at asc, q.id asc`,
};

/** One page of item ids in order (the cheap part: an index walk), and the totals of the whole filter. */
export async function pageOfIds(db: Db, platformId: number, f: QueueFilter, sort: QueueSort, limit: number, offset: number): Promise<number[]> {
  const rows = await db.execute<{ id: number }>(sql`
    select q.id from queue_items q where ${filterCondition(platformId, f)} order by ${ORDER[sort]} limit ${limit} offset ${offset}`);
  return rows.rows.map((r) => Number(r.id));
}

export interface FilterTotals {
  count: number;
  estCostMicros: number;
  estInputTokens: number;
}

export async function filterTotals(db: Db, platformId: number, f: QueueFilter): Promise<FilterTotals> {
  const rows = await db.execute<{ n: number; cost: number | null; tokens: number | null }>(sql`
    select count(*)::int as n, sum(q.est_cost_micros)::int8 as cost, sum(q.est_input_tokens)::int8 as tokens
    from queue_items q where ${filterCondition(platformId, f)}`);
  const r = rows.rows[0];
  return { count: Number(r?.n ?? 0), estCostMicros: Number(r?.cost ?? 0), estInputTokens: Number(r?.tokens ?? 0) };
}

/** What the dashboard shows of an item: the item, its submission's metadata, course, task and student. */
export interface QueueItemView {
  id: number;
  status: QueueStatus;
  priority: Priority;
  model: string;
  estInputTokens: number;
  estOutputTokens: number;
  estCostMicros: number;
  attempts: number;
  maxAttempts: number;
  failedSends: number;
  lastError: string | null;
  notBefore: Date | null;
  adminNotes: string;
  batchId: number | null;
  createdAt: Date;
  updatedAt: Date;
  completedAt: Date | null;
  courseId: number;
  courseTitle: string;
  taskId: number;
  taskTitle: string;
  taskType: string;
  submissionId: number;
  attempt: number;
  charCount: number;
  studentId: number;
  studentName: string | null;
  promptVersionId: number;
}

type ViewRow = {
  id: number;
  status: QueueStatus;
  priority: Priority;
  model: string;
  est_input_tokens: number;
  est_output_tokens: number;
  est_cost_micros: number;
  attempts: number;
  max_attempts: number;
  failed_sends: number;
  last_error: string | null;
  not_before: Date | null;
  admin_notes: string;
  batch_id: number | null;
  created_at: Date;
  updated_at: Date;
  completed_at: Date | null;
  course_id: number;
  course_title: string;
  task_id: number;
  task_title: string;
  task_type: string;
  submission_id: number;
  attempt: number;
  char_count: number;
  student_id: number;
  student_name: string | null;
  prompt_version_id: number;
};

function toView(r: ViewRow): QueueItemView {
  return {
    id: Number(r.id),
    status: r.status,
    priority: r.priority,
    model: r.model,
    estInputTokens: r.est_input_tokens,
    estOutputTokens: r.est_output_tokens,
    estCostMicros: Number(r.est_cost_micros),
    attempts: r.attempts,
    maxAttempts: r.max_attempts,
    failedSends: Number(r.failed_sends),
    lastError: r.last_error,
    notBefore: r.not_before ? new Date(r.not_before) : null,
    adminNotes: r.admin_notes,
    batchId: r.batch_id == null ? null : Number(r.batch_id),
    createdAt: new Date(r.created_at),
    updatedAt: new Date(r.updated_at),
    completedAt: r.completed_at ? new Date(r.completed_at) : null,
    courseId: Number(r.course_id),
    courseTitle: r.course_title,
    taskId: Number(r.task_id),
    taskTitle: r.task_title,
    taskType: r.task_type,
    submissionId: Number(r.submission_id),
    attempt: r.attempt,
    charCount: r.char_count,
    studentId: Number(r.student_id),
    studentName: r.student_name,
    promptVersionId: Number(r.prompt_version_id),
  };
}

const VIEW_COLUMNS = sql`
    q.id, q.status, q.priority, q.model, q.est_input_tokens, q.est_output_tokens, q.est_cost_micros, q.attempts, q.max_attempts,
    (select count(*) from batch_requests br where br.queue_item_id = q.id and br.status = 'failed')::int as failed_sends,
    q.last_error, q.not_before, q.admin_notes, q.batch_id, q.created_at, q.updated_at, q.completed_at,
    q.course_id, c.title as course_title, q.task_id, t.title as task_title, t.task_type,
    q.submission_id, s.attempt, s.char_count, s.student_id, u.name as student_name, q.prompt_version_id`;

const VIEW_JOINS = sql`
    join courses c on c.id = q.course_id
    join tasks t on t.id = q.task_id
    join submissions s on s.id = q.submission_id
    join users u on u.id = s.student_id`;

/** The items of these ids in the platform, in the order given. */
export async function itemViews(db: Db, platformId: number, ids: number[]): Promise<QueueItemView[]> {
  if (!ids.length) return [];
  const rows = await db.execute<ViewRow>(sql`
    select ${VIEW_COLUMNS} from queue_items q ${VIEW_JOINS}
    where q.platform_id = ${platformId} and q.id = any(${sql.param(ids)}::bigint[])`);
  const byId = new Map(rows.rows.map((r) => [Number(r.id), toView(r)]));
  return ids.map((id) => byId.get(id)).filter((v): v is QueueItemView => v !== undefined);
}

/**
 * One page of the filter with everything the dashboard shows, in one round trip: the page's ids are found by an
 * index walk first (the inner query), and only those rows are joined.
 */
export async function pageOfItems(db: Db, platformId: number, f: QueueFilter, sort: QueueSort, limit: number, offset: number): Promise<QueueItemView[]> {
  const rows = await db.execute<ViewRow>(sql`
    select ${VIEW_COLUMNS}
    from (select q.id from queue_items q where ${filterCondition(platformId, f)} order by ${ORDER[sort]} limit ${limit} offset ${offset}) page
    join queue_items q on q.id = page.id ${VIEW_JOINS}
    order by ${ORDER[sort]}`);
  return rows.rows.map(toView);
}

/** Queue items of a submission that still wait for (or are in) a batch. */
export async function countWaitingItemsOf(db: Db, submissionId: number): Promise<number> {
  const rows = await db.execute<{ n: number }>(sql`select count(*)::int as n from queue_items where submission_id = ${submissionId} and status in ('queued', 'selected', 'processing')`);
  return rows.rows[0]!.n;
}

/** The SQL condition of a selection, inside the platform. */
export function selectionCondition(platformId: number, selection: Selection): SQL {
  return selection.scope === 'all'
    ? filterCondition(platformId, selection.filter)
    : sql`q.platform_id = ${platformId} and q.id = any(${sql.param(selection.ids)}::bigint[])`;
}

function setClause(a: QueueAction): SQL {
  switch (a.action) {
    case 'priority':
      return sql`priority = ${a.priority}, priority_rank = ${PRIORITY_RANK[a.priority as Priority]}`;
    case 'notes':
      return sql`admin_notes = ${a.notes}`;
    case 'skip':
      return sql`status = 'skipped'`;
    case 'reschedule':
      return sql`not_before = ${a.notBefore ? a.notBefore.toISOString() : null}::timestamptz`;
    case 'requeue':
      // A dead letter gets one more send: the limit moves to one past the sends that failed so far.
      return sql`status = 'queued', batch_id = null, max_attempts = greatest(q.max_attempts, (select count(*) from batch_requests br where br.queue_item_id = q.id and br.status = 'failed')::int + 1)`;
  }
}

/** Applies an action to the selected items still in one of `eligible` statuses, in one update; their ids. */
export async function updateSelectedItems(db: Db, platformId: number, selection: Selection, action: QueueAction, eligible: string[]): Promise<number[]> {
  const rows = await db.execute<{ id: number }>(sql`
    update queue_items q set ${setClause(action)}, updated_at = now()
    where ${selectionCondition(platformId, selection)} and q.status = any(${sql.param(eligible)}::text[])
    returning q.id`);
  return rows.rows.map((r) => Number(r.id));
}

/** New estimates for queued items (a calibration): their output tokens and cost, while they are still queued. */
export async function updateQueuedEstimates(db: Db, estimates: Array<{ id: number; outputTokens: number; costMicros: number }>): Promise<void> {
  if (!estimates.length) return;
  await db.execute(sql`
    update queue_items q set est_output_tokens = e.out, est_cost_micros = e.cost, updated_at = now()
    from unnest(${sql.param(estimates.map((e) => e.id))}::bigint[], ${sql.param(estimates.map((e) => e.outputTokens))}::int[], ${sql.param(estimates.map((e) => e.costMicros))}::bigint[]) as e(id, out, cost)
    where q.id = e.id and q.status = 'queued'`);
}

/**
 * A student's waiting work leaves the queue (skipped, with the reason): in one course (`courseId`) or everywhere.
 * Items in a batch are not touched. Returns how many were skipped.
 */
export async function skipQueuedOfStudent(db: Db, userId: number, reason: string, courseId?: number): Promise<number> {
  const rows = await db.execute(sql`
    update queue_items q set status = 'skipped', last_error = ${reason}, updated_at = now()
    from submissions s
    where s.id = q.submission_id and s.student_id = ${userId} and q.status = 'queued' ${courseId === undefined ? sql`` : sql`and q.course_id = ${courseId}`}`);
  return rows.rowCount ?? 0;
}

/** The newest queue item of a submission (its current grading), if any. */
export async function latestQueueItemOf(db: Db, submissionId: number): Promise<{ id: number; status: QueueStatus } | undefined> {
  const rows = await db.execute<{ id: number; status: QueueStatus }>(sql`select id, status from queue_items where submission_id = ${submissionId} order by id desc limit 1`);
  const r = rows.rows[0];
  return r && { id: Number(r.id), status: r.status };
}
