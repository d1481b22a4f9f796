import { Router, type Request, type Response } from 'express';
import type { RootDb } from '../db/db.js';
import { actorOf, allow } from '../lti/actor.js';
import { Invalid, NotFound } from '../errors.js';
import { parseInput } from '../validation.js';
import { budgetBody, costSummaryQuery, freezeBody } from '../models/budgets/budgets.schema.js';
import { freezeBudget, setBudget } from '../models/budgets/budget-admin.service.js';
import { budgetStatus, costSummary, type BudgetStatus } from '../models/budgets/cost-report.service.js';
import { currentMonth, listCourses } from '../models/budgets/budgets.repository.js';
import { idParam } from './params.js';
import { withDeps } from './handlers.js';

type CostsApiDeps = { db: RootDb };

/** Longest period one summary covers. */
const MAX_SUMMARY_MONTHS = 36;

/**
 * The cost API (issue 16, item 10; openapi/paths/costs.yaml): the platform's spend summarised for a period and
 * grouped, each budget's status with its forecast, and budgets set and frozen as on the Costs page (the same
 * services, checks and audit). Administrators of the platform only.
 */
export function costsApiRoutes(deps: CostsApiDeps): Router {
  const on = withDeps(deps);
  const router = Router();
  router.use('/api/llm-costs', allow('administrator'));
  router.get('/api/llm-costs/summary/', on(summary));
  router.get('/api/llm-costs/budget-status/', on(status));
  router.post('/api/llm-costs/budgets/', on(saveBudget));
  router.post('/api/llm-costs/budgets/:budgetId/freeze/', on(freeze));
  return router;
}

const monthsBetween = (from: string, to: string) => (Number(to.slice(0, 4)) - Number(from.slice(0, 4))) * 12 + Number(to.slice(5, 7)) - Number(from.slice(5, 7));

async function summary(deps: CostsApiDeps, req: Request, res: Response): Promise<void> {
  const { platformId } = actorOf(res);
  const q = parseInput(costSummaryQuery, req.query);
  const now = await currentMonth(deps.db);
  const fromMonth = q.from ?? q.to ?? now;
  const toMonth = q.to ?? (q.from && q.from > now ? q.from : now);
  if (toMonth < fromMonth) throw Invalid({ to: 'to is the same month as from or later.' }, 'The period ends before it starts.');
  if (monthsBetween(fromMonth, toMonth) >= MAX_SUMMARY_MONTHS) throw Invalid({ to: `A summary covers at most ${MAX_SUMMARY_MONTHS} months.` }, 'The period is too long.');
  if (q.course !== undefined && !(await listCourses(deps.db, platformId)).some((c) => c.id === q.course)) throw NotFound('The course');
  const result = await costSummary(deps.db, platformId, { fromMonth, toMonth, courseId: q.course ?? null, groupBy: q.groupBy });
  res.json({ period: { from: fromMonth.slice(0, 7), to: toMonth.slice(0, 7) }, courseId: q.course ?? null, groupBy: q.groupBy, currency: 'USD', unit: 'micro-dollars', ...result });
}

function budgetJson(b: BudgetStatus) {
  return {
    id: b.id,
    scope: b.courseId == null ? { type: 'platform' } : { type: 'course', courseId: b.courseId, courseTitle: b.courseTitle },
    month: b.month.slice(0, 7),
    limitMicros: b.limitMicros,
    ownLimitMicros: b.ownLimitMicros,
    carryOver: b.carryOver,
    committedMicros: b.committedMicros,
    reservedMicros: b.inFlightMicros,
    spentMicros: b.chargedMicros,
    remainingMicros: Math.max(0, b.limitMicros - b.committedMicros),
    thresholds: b.thresholds,
    thresholdsReached: b.thresholdsReached,
    alertsSent: b.alertsSent,
    frozen: b.frozen,
    forecast: b.forecast,
  };
}

async function status(deps: CostsApiDeps, _req: Request, res: Response): Promise<void> {
  const { platformId } = actorOf(res);
  const result = await budgetStatus(deps.db, platformId);
  res.json({ currentMonth: result.currentMonth.slice(0, 7), currency: 'USD', unit: 'micro-dollars', budgets: result.budgets.map(budgetJson) });
}

/** The budget as the status lists it, after a change. */
async function answerBudget(deps: CostsApiDeps, res: Response, budgetId: number, httpStatus: number): Promise<void> {
  const budget = (await budgetStatus(deps.db, actorOf(res).platformId)).budgets.find((b) => b.id === budgetId);
  if (!budget) throw NotFound('The budget');
  res.status(httpStatus).json({ budget: budgetJson(budget) });
}

async function saveBudget(deps: CostsApiDeps, req: Request, res: Response): Promise<void> {
  const actor = actorOf(res);
  const input = parseInput(budgetBody, req.body);
  const result = await deps.db.transaction((tx) => setBudget(tx, actor, input));
  await answerBudget(deps, res, result.id, result.created ? 201 : 200);
}

async function freeze(deps: CostsApiDeps, req: Request, res: Response): Promise<void> {
  const actor = actorOf(res);
  const budgetId = idParam(req.params.budgetId, 'The budget');
  const { frozen } = parseInput(freezeBody, req.body);
  await deps.db.transaction((tx) => freezeBudget(tx, actor, budgetId, frozen));
  await answerBudget(deps, res, budgetId, 200);
}
