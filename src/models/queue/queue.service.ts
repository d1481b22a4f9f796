import type { Db } from '../../db/db.js';
import { Conflict, NotFound } from '../../errors.js';
import { recordAudit } from '../audit/audit.repository.js';
import type { QueueListQuery } from './queue.filters.js';
import { filterTotals, itemViews, pageOfItems, updateSelectedItems, type FilterTotals, type QueueItemView } from './queue.repository.js';
import type { QueueAction, Selection } from './queue.schema.js';
import { queueStats, type QueueStats } from './queue-stats.repository.js';
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

const PAST: Record<QueueAction['action'], string> = { priority: 'Changed the priority of', notes: 'Saved notes on', skip: 'Skipped', reschedule: 'Rescheduled', requeue: 'Queued again' };

/**
 * Applies an action to a selection in one conditional UPDATE: items that left the eligible states meanwhile (put
 * into a batch, finished) are left alone and counted, never changed behind a batch's back. Audited.
 */
export async function applyQueueAction(db: Db, admin: Admin, selection: Selection, action: QueueAction): Promise<ActionResult> {
  const rows = await updateSelectedItems(db, admin.platformId, selection, action, ELIGIBLE[action.action]);
  const changed = rows.length;
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
      entityId: changed === 1 ? rows[0]! : null,
      details: { count: changed, ids: rows.slice(0, 1000), ...actionDetails(action), scope: selection.scope },
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
