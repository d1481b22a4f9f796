import { sql, type SQL } from 'drizzle-orm';
import { z } from 'zod';
import type { Db } from '../../db/db.js';
import { Conflict, Invalid, NotFound } from '../../errors.js';
import { recordAudit } from '../audit/audit.repository.js';
import { filterProblems, queueFilterSchema, type QueueFilter, type QueueListQuery } from './queue.filters.js';
import { filterCondition, filterTotals, itemViews, pageOfItems, PRIORITY_RANK, type FilterTotals, type QueueItemView } from './queue.repository.js';
import { queueStats, type QueueStats } from './queue-stats.repository.js';
import { PRIORITIES, type Priority } from './queue.table.js';
import { memoStats } from './stats-cache.js';

export interface Admin {
  platformId: number;
  userId: number;
}

export interface QueuePage {
  items: QueueItemView[];
  totals: FilterTotals;
  stats: QueueStats;
  page: number;
  pageSize: number;
  pages: number;
}

/** The dashboard: one page of the filter, its totals, and the platform's statistics. */
export async function queuePage(db: Db, platformId: number, q: QueueListQuery): Promise<QueuePage> {
  const offset = (q.page - 1) * q.pageSize;
  const filterKey = JSON.stringify([q.status, q.course, q.instructor, q.task, q.taskType, q.from, q.to, q.priority]);
  const [items, totals, stats] = await Promise.all([
    pageOfItems(db, platformId, q, q.sort, q.pageSize, offset),
    // Aggregates over every matching row: memoized for a few seconds (see stats-cache.ts); the rows never are.
    memoStats(platformId, `totals:${filterKey}`, () => filterTotals(db, platformId, q)),
    memoStats(platformId, 'stats', () => queueStats(db, platformId)),
  ]);
  return { items, totals, stats, page: q.page, pageSize: q.pageSize, pages: Math.max(1, Math.ceil(totals.count / q.pageSize)) };
}

/**
 * Which items an action is about: the ticked ones, or every item matching the filter ("all matching"). Ids
 * arrive from forms as strings, from JSON as numbers.
 */
export const selectionSchema = z.object({
  scope: z.enum(['selected', 'all']).default('selected'),
  ids: z.preprocess(
    (v) => (v === undefined || v === '' ? [] : Array.isArray(v) ? v : [v]),
    z.array(z.coerce.number().int().positive().max(Number.MAX_SAFE_INTEGER)).max(50_000, 'Select at most 50,000 items at once; use "all matching" for more.'),
  ),
  filter: z.unknown().optional(),
});

export type Selection = { scope: 'selected'; ids: number[] } | { scope: 'all'; filter: QueueFilter };

export function parseSelection(raw: unknown, filterSource: unknown): Selection {
  const parsed = selectionSchema.safeParse(raw ?? {});
  if (!parsed.success) throw Invalid(filterProblems(parsed.error));
  if (parsed.data.scope === 'all') {
    const filter = queueFilterSchema.safeParse(parsed.data.filter ?? filterSource ?? {});
    if (!filter.success) throw Invalid(filterProblems(filter.error));
    return { scope: 'all', filter: filter.data };
  }
  const ids = [...new Set(parsed.data.ids)];
  if (!ids.length) throw Invalid({ ids: 'Select at least one item.' }, 'Nothing is selected.');
  return { scope: 'selected', ids };
}

/** The SQL condition of a selection, inside the platform. */
export function selectionCondition(platformId: number, selection: Selection): SQL {
  return selection.scope === 'all'
    ? filterCondition(platformId, selection.filter)
    : sql`q.platform_id = ${platformId} and q.id = any(${sql.param(selection.ids)}::bigint[])`;
}

export const NOTES_MAX = 2000;

export const actionSchema = z.discriminatedUnion('action', [
  z.object({ action: z.literal('priority'), priority: z.enum(PRIORITIES, { error: 'Choose high, normal or low.' }) }),
  z.object({ action: z.literal('notes'), notes: z.string().max(NOTES_MAX, `Notes have at most ${NOTES_MAX} characters.`).default('') }),
  z.object({ action: z.literal('skip') }),
  z.object({
    action: z.literal('reschedule'),
    notBefore: z.preprocess(
      (v) => (v === '' || v == null ? null : v),
      z
        .string()
        .refine((s) => !Number.isNaN(Date.parse(s)), 'Enter a date and time.')
        .transform((s) => new Date(/[zZ]|[+-]\d{2}:?\d{2}$/.test(s) ? s : `${s}Z`))
        .nullable(),
    ),
  }),
  z.object({ action: z.literal('requeue') }),
]);
export type QueueAction = z.infer<typeof actionSchema>;

export interface ActionResult {
  action: QueueAction['action'];
  changed: number;
  /** Selected items the action did not apply to (no longer in a state it applies to). */
  unchanged: number;
  message: string;
}

/** Which statuses each action applies to: only waiting work can be re-prioritised, skipped or rescheduled. */
const ELIGIBLE: Record<QueueAction['action'], string[]> = {
  priority: ['queued'],
  notes: ['queued', 'selected', 'processing', 'completed', 'failed', 'skipped'],
  skip: ['queued'],
  reschedule: ['queued'],
  requeue: ['failed', 'skipped'],
};

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

const PAST: Record<QueueAction['action'], string> = { priority: 'Changed the priority of', notes: 'Saved notes on', skip: 'Skipped', reschedule: 'Rescheduled', requeue: 'Queued again' };

/**
 * Applies an action to a selection in one conditional UPDATE: items that left the eligible states meanwhile (put
 * into a batch, finished) are left alone and counted, never changed behind a batch's back. Audited.
 */
export async function applyQueueAction(db: Db, admin: Admin, selection: Selection, action: QueueAction): Promise<ActionResult> {
  const where = selectionCondition(admin.platformId, selection);
  const eligible = ELIGIBLE[action.action];
  const rows = await db.execute<{ id: number }>(sql`
    update queue_items q set ${setClause(action)}, updated_at = now()
    where ${where} and q.status = any(${sql.param(eligible)}::text[])
    returning q.id`);
  const changed = rows.rows.length;
  const selected = selection.scope === 'selected' ? selection.ids.length : changed;
  let unchanged = selected - changed;
  if (selection.scope === 'selected' && unchanged > 0) {
    // Ids of another platform (or none at all) must not be told apart from ineligible ones.
    unchanged = Math.max(0, unchanged);
  }
  if (changed > 0) {
    await recordAudit(db, {
      platformId: admin.platformId,
      actorId: admin.userId,
      actorKind: 'user',
      action: `queue.${action.action}`,
      entityType: 'queue_item',
      entityId: changed === 1 ? rows.rows[0]!.id : null,
      details: { count: changed, ids: rows.rows.slice(0, 1000).map((r) => Number(r.id)), ...actionDetails(action), scope: selection.scope },
    });
  }
  const noun = (n: number) => `${n.toLocaleString('en')} item${n === 1 ? '' : 's'}`;
  const message =
    changed === 0
      ? `Nothing changed: ${action.action === 'requeue' ? 'only failed or skipped items can be queued again' : action.action === 'notes' ? 'no item matched' : 'only queued items can be changed this way'}.`
      : `${PAST[action.action]} ${noun(changed)}.${unchanged > 0 ? ` ${noun(unchanged)} ${unchanged === 1 ? 'was' : 'were'} left as they are (no longer queued).` : ''}`;
  return { action: action.action, changed, unchanged, message };
}

function actionDetails(a: QueueAction): Record<string, unknown> {
  if (a.action === 'priority') return { priority: a.priority };
  if (a.action === 'notes') return { notes: a.notes.slice(0, 200) };
  if (a.action === 'reschedule') return { notBefore: a.notBefore?.toISOString() ?? null };
  return {};
}

/**
 * One item, for the JSON API: the action must apply, or the answer says why (409), and an id of another
 * platform is simply not found.
 */
export async function applyToOne(db: Db, admin: Admin, id: number, action: QueueAction): Promise<QueueItemView> {
  const [before] = await itemViews(db, admin.platformId, [id]);
  if (!before) throw NotFound('The queue item');
  const result = await applyQueueAction(db, admin, { scope: 'selected', ids: [id] }, action);
  if (result.changed === 0) throw Conflict(`Queue item ${id} is ${before.status}: ${action.action === 'requeue' ? 'only failed or skipped items can be queued again' : 'only queued items can be changed this way'}.`);
  const [after] = await itemViews(db, admin.platformId, [id]);
  return after!;
}
