import { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import type { RootDb } from '../db/db.js';
import type { Jobs } from '../job-queue.js';
import { actorOf, allow } from '../lti/actor.js';
import { Conflict, Invalid } from '../errors.js';
import { render } from '../http/render.js';
import { monitoringOf, pastDaysOf } from '../models/metrics/monitoring.service.js';
import type { Period } from '../models/metrics/monitoring.repository.js';
import { DAY_PATTERN, isCalendarDay } from '../models/metrics/rollup.service.js';
import { parseInput } from '../validation.js';
import { withDeps } from './handlers.js';
import { monitoringCsv, presentMonitoring } from './monitoring.present.js';

/** The administrator's monitoring page (seed §9 and §11): KPI tiles and charts over a period, each chart also a table and CSV. */
export interface MonitoringDeps {
  db: RootDb;
  jobs?: Jobs;
}

const day = z.string().regex(DAY_PATTERN, 'A day is YYYY-MM-DD.').refine(isCalendarDay, 'Not a day of the calendar.');
const periodSchema = z
  .object({ from: day.optional(), to: day.optional() })
  .refine((p) => !p.from || !p.to || p.from <= p.to, { path: ['to'], message: 'The end is before the start.' });

/** The period of the query: `from`–`to` inclusive (UTC days), the last 30 days by default, at most a year. */
function periodOf(platformId: number, query: unknown): Period & { fromDay: string; toDay: string } {
  const q = parseInput(periodSchema, query);
  const today = new Date().toISOString().slice(0, 10);
  const toDay = q.to ?? today;
  const fromDay = q.from ?? new Date(Date.parse(`${toDay}T00:00:00Z`) - 29 * 86_400_000).toISOString().slice(0, 10);
  const from = new Date(`${fromDay}T00:00:00Z`);
  const to = new Date(Date.parse(`${toDay}T00:00:00Z`) + 86_400_000);
  if (to.getTime() - from.getTime() > 366 * 86_400_000) throw Invalid({ from: 'Choose at most a year.' });
  return { platformId, from, to, fromDay, toDay };
}

export function monitoringRoutes(deps: MonitoringDeps): Router {
  const on = withDeps(deps);
  const router = Router();
  router.use(['/admin/monitoring', '/admin/monitoring.csv'], allow('administrator'));
  router.get('/admin/monitoring', on(showMonitoring));
  router.get('/admin/monitoring.csv', on(downloadCsv));
  router.post('/admin/monitoring/rollup', on(rollupPeriod));
  return router;
}

async function showMonitoring(deps: MonitoringDeps, req: Request, res: Response, message?: string): Promise<void> {
  const period = periodOf(actorOf(res).platformId, req.query);
  const m = await monitoringOf(deps.db, period);
  render(req, res, 'pages/admin/monitoring', { title: 'Monitoring', period: { from: period.fromDay, to: period.toDay }, message: message ?? null, ...presentMonitoring(m) });
}

async function downloadCsv(deps: MonitoringDeps, req: Request, res: Response): Promise<void> {
  const period = periodOf(actorOf(res).platformId, req.query);
  const m = await monitoringOf(deps.db, period);
  res.status(200).type('text/csv; charset=utf-8').attachment(`monitoring-${period.fromDay}-to-${period.toDay}.csv`).send(`\uFEFF${monitoringCsv(m)}`);
}

/** Computes the period's past days again (a backfill through the rollup job; idempotent), then shows the page. */
async function rollupPeriod(deps: MonitoringDeps, req: Request, res: Response): Promise<void> {
  const period = periodOf(actorOf(res).platformId, req.query);
  if (!deps.jobs) throw Conflict('This process cannot queue jobs, so the days cannot be computed from here.');
  const days = pastDaysOf(period);
  for (const d of days) await deps.jobs.enqueue('rollup-daily-metrics', { day: d });
  await showMonitoring(deps, req, res, days.length ? `${days.length} day${days.length === 1 ? '' : 's'} will be computed again in the next minute; reload to see them.` : 'The period has no past day to compute (today is rolled up tomorrow).');
}
