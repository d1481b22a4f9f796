import { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import type { RootDb } from '../db/db.js';
import { actorOf, allow } from '../lti/actor.js';
import { BadRequest, HttpError } from '../errors.js';
import { render } from '../http/render.js';
import { budgetsOverview, freezeBudget, removeBudget, setBudget } from '../models/budgets/budget-admin.service.js';
import { allocationForm, budgetForm, freezeForm } from '../models/budgets/budgets.schema.js';
import { moveAllocation } from '../models/budgets/allocation.service.js';
import { listBudgetHistory } from '../models/budgets/allocation.repository.js';
import { formatUsd } from './prompts.present.js';
import { parseInput } from '../validation.js';
import { spendReport } from '../models/budgets/spend.service.js';
import { withFigures } from '../models/budgets/cost-report.service.js';
import { costGroups } from '../models/budgets/cost-report.repository.js';
import { presentBudgetHistory, presentBudgets, presentTrends, presentOpenBatches, presentOverrides, presentSpend } from './costs.present.js';
import { idParam } from './params.js';
import { withDeps } from './handlers.js';
import type { Config } from '../config.js';
import { overrideForm } from '../models/batches/batches.schema.js';
import { createBatches } from '../models/batches/batches.service.js';
import { listOverrides, overrideSpendThisMonth } from '../models/batches/overrides.repository.js';
import { changeQueue } from '../models/queue/stats-cache.js';
import type { Jobs } from '../job-queue.js';
import { listOpenBatches } from '../models/batches/batches.repository.js';
import { requestCancel } from '../models/batches/batches.service.js';
import { confirmBatchStep } from '../models/batches/batch-kick.js';

const monthQuery = z.object({ month: z.string().regex(/^\d{4}-(0[1-9]|1[0-2])$/).optional() });

interface BudgetsState {
  fields?: Record<string, string>;
  /** What the person typed, shown again beside a 422's messages. */
  values?: Record<string, string>;
  notice?: string;
  /** A refusal to show above the panel (409: an override the cap or the queue refused). */
  error?: string;
  status?: number;
}

type CostsDeps = { db: RootDb; jobs?: Jobs; config: Pick<Config, 'batches' | 'budgetOverrideCapMicros'> };

/**
 * The administrator's Costs page: spend of their platform (committed, charged, savings vs real-time prices) and
 * the monthly budgets that cap it. Budget forms answer with the budgets panel (htmx) or the whole page.
 */
export function costsRoutes(deps: CostsDeps): Router {
  const on = withDeps(deps);
  const router = Router();
  router.use('/admin/costs', allow('administrator'));
  router.get('/admin/costs', on(openCosts));
  router.post('/admin/costs/budgets', on(saveBudget));
  router.post('/admin/costs/budgets/:budgetId/freeze', on(freeze));
  router.post('/admin/costs/budgets/:budgetId/remove', on(remove));
  router.post('/admin/costs/budgets/move', on(moveBetweenBudgets));
  router.post('/admin/costs/batches/:batchId/cancel', on(cancelBatch));
  router.post('/admin/costs/override', on(overrideBudgets));
  return router;
}

async function show(deps: CostsDeps, req: Request, res: Response, month: string | undefined, state: BudgetsState = {}): Promise<void> {
  const { platformId } = actorOf(res);
  const spend = presentSpend(await spendReport(deps.db, platformId, month));
  const overview = await budgetsOverview(deps.db, platformId);
  const status = await withFigures(deps.db, platformId, overview.currentMonth, overview.budgets);
  const budgets = presentBudgets(overview, new Map(status.map((b) => [b.id, b.forecast])));
  const selected = month ?? overview.currentMonth;
  const trends = presentTrends(status, await costGroups(deps.db, platformId, { fromMonth: selected, toMonth: selected, courseId: null }, 'day'));
  const open = presentOpenBatches(await listOpenBatches(deps.db, platformId));
  const history = presentBudgetHistory(await listBudgetHistory(deps.db, platformId));
  const overrides = presentOverrides(await listOverrides(deps.db, platformId), await overrideSpendThisMonth(deps.db, platformId), deps.config.budgetOverrideCapMicros);
  render(
    req,
    res,
    'pages/admin/costs',
    { title: 'Costs and budgets', spend, trends, ...budgets, ...open, overrides, history, error: state.error ?? null, fields: state.fields ?? {}, values: state.values ?? {}, notice: state.notice ?? null },
    { status: state.status, fragment: 'partials/costs/_budgets' },
  );
}

/** Runs a budget change in a transaction; a 422 re-renders the panel with the messages, nothing changed. */
async function change(deps: CostsDeps, req: Request, res: Response, action: () => Promise<string>): Promise<void> {
  try {
    const notice = await action();
    await show(deps, req, res, undefined, { notice });
  } catch (err) {
    if (err instanceof HttpError && err.status === 422) {
      const body = (req.body ?? {}) as Record<string, unknown>;
      const values = Object.fromEntries(['scope', 'month', 'limit', 'warnAt', 'ids', 'reason', 'carryOver', 'from', 'to', 'amount'].map((k) => [k, typeof body[k] === 'string' ? body[k] : '']));
      return show(deps, req, res, undefined, { fields: err.fields, values, status: 422 });
    }
    throw err;
  }
}

async function openCosts(deps: CostsDeps, req: Request, res: Response): Promise<void> {
  const parsed = monthQuery.safeParse(req.query);
  if (!parsed.success) throw BadRequest('Choose a month as YYYY-MM, like 2026-11.', { month: 'Choose a month as YYYY-MM.' });
  await show(deps, req, res, parsed.data.month ? `${parsed.data.month}-01` : undefined);
}

async function saveBudget(deps: CostsDeps, req: Request, res: Response): Promise<void> {
  await change(deps, req, res, async () => {
    const actor = actorOf(res);
    const input = parseInput(budgetForm, req.body);
    const result = await deps.db.transaction((tx) => setBudget(tx, actor, input));
    return result.created ? 'Budget set.' : 'Budget limit changed.';
  });
}

async function freeze(deps: CostsDeps, req: Request, res: Response): Promise<void> {
  await change(deps, req, res, async () => {
    const actor = actorOf(res);
    const budgetId = idParam(req.params.budgetId, 'The budget');
    const { frozen } = parseInput(freezeForm, req.body);
    const budget = await deps.db.transaction((tx) => freezeBudget(tx, actor, budgetId, frozen));
    return budget.frozen ? 'Budget frozen: from now on nothing more is sent for its scope this month (batches not sent yet are held, sample tests refused) until it is unfrozen. Batches already at the provider run on: cancel them under "Batches not finished" if they must stop.' : 'Budget unfrozen.';
  });
}

async function remove(deps: CostsDeps, req: Request, res: Response): Promise<void> {
  await change(deps, req, res, async () => {
    const actor = actorOf(res);
    await deps.db.transaction((tx) => removeBudget(tx, actor, idParam(req.params.budgetId, 'The budget')));
    return 'Budget removed.';
  });
}

/** One click from the Costs page: a batch not sent yet is cancelled at once, one at the provider is asked to stop. */
async function cancelBatch(deps: CostsDeps, req: Request, res: Response): Promise<void> {
  const actor = actorOf(res);
  const batchId = idParam(req.params.batchId, 'The batch');
  const batch = await confirmBatchStep(deps.db, deps.jobs, { platformId: actor.platformId, userId: actor.userId }, batchId, requestCancel);
  const notice =
    batch.status === 'cancelled'
      ? `Batch ${batchId} cancelled before it was sent: its items are back in the queue and its reservation released.`
      : `Batch ${batchId}: the provider is asked to cancel it. Results it finished are kept and charged; the rest go back to the queue.`;
  await show(deps, req, res, undefined, { notice });
}

/**
 * An emergency override: the named queue items go into a batch past a freeze or a spent budget, within the
 * month's override cap, audited. The batch is confirmed and sent from its page like any other.
 */
async function overrideBudgets(deps: CostsDeps, req: Request, res: Response): Promise<void> {
  const actor = actorOf(res);
  try {
    await change(deps, req, res, async () => {
      const { ids, reason } = parseInput(overrideForm, req.body);
      const admin = { platformId: actor.platformId, userId: actor.userId };
      const { batches } = await changeQueue(deps.db, actor.platformId, (tx) =>
        createBatches(tx, deps.config.batches, admin, { scope: 'selected', ids }, {}, { reason, capMicros: deps.config.budgetOverrideCapMicros }),
      );
      const n = batches.reduce((a, b) => a + b.requestTotal, 0);
      return `Override recorded: ${batches.map((b) => `batch ${b.id}`).join(', ')} with ${n} item${n === 1 ? '' : 's'}, past the budgets. Nothing is sent until you confirm it on its page.`;
    });
  } catch (err) {
    // Items no longer queued, or the cap: the reason above the panel, nothing changed.
    if (err instanceof HttpError && err.status === 409) return show(deps, req, res, undefined, { error: err.message, status: 409 });
    throw err;
  }
}

async function moveBetweenBudgets(deps: CostsDeps, req: Request, res: Response): Promise<void> {
  await change(deps, req, res, async () => {
    const actor = actorOf(res);
    const input = parseInput(allocationForm, req.body);
    const { from, to } = await deps.db.transaction((tx) => moveAllocation(tx, actor, input));
    return `Moved ${formatUsd(input.amount)} from "${from.courseTitle ?? from.courseId}" (now ${formatUsd(from.limitMicros)}) to "${to.courseTitle ?? to.courseId}" (now ${formatUsd(to.limitMicros)}).`;
  });
}
