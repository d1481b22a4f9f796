import type { Request, Response } from 'express';
import type { Config } from '../config.js';
import type { RootDb } from '../db/db.js';
import { actorOf } from '../lti/actor.js';
import { render } from '../http/render.js';
import { filterProblems, PAGE_SIZES, QUEUE_SORTS, queueFilterSchema, queueListSchema, type QueueListQuery } from '../models/queue/queue.filters.js';
import { itemViews, pageOfIds } from '../models/queue/queue.repository.js';
import { filterChoices, pendingByCourse } from '../models/queue/queue-stats.repository.js';
import { queuePage } from '../models/queue/queue.service.js';
import { PRIORITIES, QUEUE_STATUSES } from '../models/queue/queue.table.js';
import { memoStats } from '../models/queue/stats-cache.js';
import { effectiveLimits } from '../models/batches/batches.service.js';
import { TASK_TYPES } from '../models/tasks/tasks.table.js';
import { taskTypeLabel } from './present.js';
import { listSchedules } from '../models/schedules/schedules.repository.js';
import { presentSchedule } from './schedules.present.js';
import { filterParams, formatCount, formatUsd, presentCharts, presentItem, presentStats, STATUS_LABELS } from './queue.present.js';

// The queue dashboard as a page, shared by its routes (queue.routes.ts) and by the batch form on it, which
// answers a refused selection with the dashboard again (batches.routes.ts).

export interface QueueRouteDeps {
  db: RootDb;
  config: Pick<Config, 'batches'>;
}

/** Hidden fields of the action form that carry the dashboard's filter (for "all matching" and the re-render). */
export const FILTER_PREFIX = 'f_';

/** The dashboard's filter from the action form's hidden `f_*` fields (an action re-renders the same view). */
export function filterFromBody(body: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(body)) if (k.startsWith(FILTER_PREFIX)) out[k.slice(FILTER_PREFIX.length)] = v;
  return out;
}

const DEFAULT_QUERY: QueueListQuery = queueListSchema.parse({});

export interface BoardMessage {
  kind: 'success' | 'error';
  text: string;
  fields?: Record<string, string>;
}

/**
 * The whole dashboard (filters, statistics, chart, the page of items with the action form, dead letters) as one
 * partial, so a filter, a page turn or an action swaps it in one piece and the page without htmx is the same HTML.
 */
export async function showQueueBoard(
  deps: QueueRouteDeps,
  req: Request,
  res: Response,
  raw: Record<string, unknown>,
  options: { message?: BoardMessage; status?: number; values?: Record<string, string> } = {},
): Promise<void> {
  const actor = actorOf(res);
  const parsed = queueListSchema.safeParse(raw);
  const query = parsed.success ? parsed.data : DEFAULT_QUERY;
  const filterFields = parsed.success ? {} : filterProblems(parsed.error);
  const now = new Date();
  const [page, choices, shares, dead, schedules] = await Promise.all([
    queuePage(deps.db, actor.platformId, query),
    memoStats(actor.platformId, 'choices', () => filterChoices(deps.db, actor.platformId)),
    memoStats(actor.platformId, 'by-course', () => pendingByCourse(deps.db, actor.platformId)),
    memoStats(actor.platformId, 'dead-letters', async () =>
      itemViews(deps.db, actor.platformId, await pageOfIds(deps.db, actor.platformId, queueFilterSchema.parse({ status: 'failed' }), 'newest', 10, 0)),
    ),
    listSchedules(deps.db, actor.platformId),
  ]);
  const limits = effectiveLimits(deps.config.batches);
  const message = options.message ?? (parsed.success ? undefined : { kind: 'error' as const, text: 'Some filters are not valid; showing the default view.', fields: filterFields });
  render(
    req,
    res,
    'pages/admin/queue',
    {
      title: 'Assessment queue',
      query,
      raw: Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, typeof v === 'string' ? v : ''])),
      params: (overrides: Record<string, string | number | undefined> = {}) => filterParams(query, overrides),
      choices: {
        ...choices,
        taskTypes: TASK_TYPES.map((t) => ({ id: t, label: taskTypeLabel(t) })),
        priorities: PRIORITIES,
        statuses: [...QUEUE_STATUSES.map((s) => ({ id: s, label: STATUS_LABELS[s] ?? s })), { id: 'all', label: 'Any status' }],
        sorts: QUEUE_SORTS,
        pageSizes: PAGE_SIZES,
      },
      items: page.items.map(presentItem),
      totals: { count: page.totals.count, countLabel: formatCount(page.totals.count), cost: formatUsd(page.totals.estCostMicros), tokens: formatCount(page.totals.estInputTokens) },
      paging: { page: page.page, pages: page.pages, pageSize: page.pageSize, first: (page.page - 1) * page.pageSize + 1, last: (page.page - 1) * page.pageSize + page.items.length },
      stats: presentStats(page.stats, deps.config.batches.enqueuedTokenLimit, now),
      charts: presentCharts(shares),
      dead: dead.map(presentItem),
      // "Next run at …": the active schedules, soonest first (listSchedules' order).
      nextRuns: schedules.filter((x) => !x.pausedAt).slice(0, 3).map(presentSchedule),
      limits,
      message,
      fields: { ...(message?.fields ?? {}) },
      values: options.values ?? {},
      filterPrefix: FILTER_PREFIX,
    },
    { status: options.status ?? (parsed.success ? 200 : 422), fragment: 'partials/admin/_queue-board' },
  );
}

/** What was typed into the action form, to show it again beside its message. */
export function stringValues(body: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of ['notes', 'notBefore', 'newPriority', 'maxPerBatch', 'batchNotes', 'providerPolicy', 'targetTurnaroundHours']) if (typeof body[k] === 'string') out[k] = body[k];
  return out;
}
