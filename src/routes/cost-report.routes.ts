import { Router, type Request, type Response } from 'express';
import type { RootDb } from '../db/db.js';
import { actorOf, allow } from '../lti/actor.js';
import { BadRequest, HttpError } from '../errors.js';
import { render } from '../http/render.js';
import { parseInput } from '../validation.js';
import { anthropicPrices } from '../providers/anthropic-prices.js';
import { costSettingsForm, reportQuery, taskMinutesForm } from '../models/budgets/roi.schema.js';
import { changeCostSettings, changeTaskMinutes, costReport, platformTask } from '../models/budgets/roi.service.js';
import { presentReport, reportCsv } from './cost-report.present.js';
import { formText } from './form.js';
import { idParam } from './params.js';
import { withDeps } from './handlers.js';

type ReportDeps = { db: RootDb };

interface ReportState {
  notice?: string;
  /** A refused settings form: messages and what was typed, by field. */
  fields?: Record<string, string>;
  values?: Record<string, string>;
  /** A refused task minutes form: which task, its message and what was typed. */
  taskError?: { taskId: number; message: string; value: string };
  status?: number;
}

/**
 * The administrator's cost report (issue 16, item 8): for a month, what the platform's and each course's charges
 * would have cost at OpenAI and Anthropic, batch and real time, and the return on the LLM spend in instructor time;
 * as a page with charts, a CSV download and a print view. The hourly rate, default minutes and each task's
 * minutes are set here. Every query is scoped to the administrator's platform.
 */
export function costReportRoutes(deps: ReportDeps): Router {
  const on = withDeps(deps);
  const router = Router();
  // '/admin/costs/report' as a prefix does not cover 'report.csv' (another path segment): both are named.
  router.use(['/admin/costs/report', '/admin/costs/report.csv'], allow('administrator'));
  router.get('/admin/costs/report', on(openReport));
  router.get('/admin/costs/report.csv', on(downloadCsv));
  router.post('/admin/costs/report/settings', on(saveSettings));
  router.post('/admin/costs/report/tasks/:taskId/minutes', on(saveTaskMinutes));
  return router;
}

/** The month asked for ('YYYY-MM-01'), undefined for the current one; a malformed month is a 400. */
function monthOf(req: Request): { month: string | undefined; print: boolean } {
  const parsed = reportQuery.safeParse(req.query);
  if (!parsed.success) throw BadRequest('Choose a month as YYYY-MM, like 2026-11.', { month: 'Choose a month as YYYY-MM.' });
  return { month: parsed.data.month, print: parsed.data.print };
}

async function show(deps: ReportDeps, req: Request, res: Response, month: string | undefined, print: boolean, state: ReportState = {}): Promise<void> {
  const { platformId } = actorOf(res);
  const report = presentReport(await costReport(deps.db, platformId, month), anthropicPrices().standIns);
  render(
    req,
    res,
    'pages/admin/cost-report',
    {
      title: `Cost report, ${report.month.label}`,
      report,
      print,
      // The print view leaves out the tool's navigation (the layout draws none without items).
      ...(print ? { nav: [] } : {}),
      notice: state.notice ?? null,
      fields: state.fields ?? {},
      values: state.values ?? report.settings,
      taskError: state.taskError ?? null,
    },
    { status: state.status, fragment: 'partials/costs/_report' },
  );
}

async function openReport(deps: ReportDeps, req: Request, res: Response): Promise<void> {
  const { month, print } = monthOf(req);
  await show(deps, req, res, month, print);
}

async function downloadCsv(deps: ReportDeps, req: Request, res: Response): Promise<void> {
  const { platformId } = actorOf(res);
  const { month } = monthOf(req);
  const report = await costReport(deps.db, platformId, month);
  res
    .status(200)
    .type('text/csv; charset=utf-8')
    .attachment(`cost-report-${report.month.slice(0, 7)}.csv`)
    // A byte order mark, so spreadsheet programs read course titles as UTF-8.
    .send(`\uFEFF${reportCsv(report)}`);
}

/** The month the forms were posted from (their action carries it); the current one when absent or malformed. */
function postedMonth(req: Request): string | undefined {
  const parsed = reportQuery.safeParse(req.query);
  return parsed.success ? parsed.data.month : undefined;
}

async function saveSettings(deps: ReportDeps, req: Request, res: Response): Promise<void> {
  const actor = actorOf(res);
  const month = postedMonth(req);
  try {
    const input = parseInput(costSettingsForm, req.body);
    await deps.db.transaction((tx) => changeCostSettings(tx, actor, input));
  } catch (err) {
    if (err instanceof HttpError && err.status === 422) {
      const values = { hourlyRate: formText(req.body, 'hourlyRate'), defaultMinutes: formText(req.body, 'defaultMinutes') };
      return show(deps, req, res, month, false, { fields: err.fields, values, status: 422 });
    }
    throw err;
  }
  await show(deps, req, res, month, false, { notice: 'Cost settings saved: the return on investment below uses them.' });
}

async function saveTaskMinutes(deps: ReportDeps, req: Request, res: Response): Promise<void> {
  const actor = actorOf(res);
  const taskId = idParam(req.params.taskId, 'The task');
  const month = postedMonth(req);
  // Whose task first: another platform's task is not found, whatever the form says.
  await platformTask(deps.db, actor, taskId);
  let title: string;
  try {
    const { minutes } = parseInput(taskMinutesForm, req.body);
    ({ title } = await deps.db.transaction((tx) => changeTaskMinutes(tx, actor, taskId, minutes)));
  } catch (err) {
    if (err instanceof HttpError && err.status === 422) {
      return show(deps, req, res, month, false, { taskError: { taskId, message: err.fields?.minutes ?? err.message, value: formText(req.body, 'minutes') }, status: 422 });
    }
    throw err;
  }
  await show(deps, req, res, month, false, { notice: `Minutes per assessment saved for "${title}".` });
}
