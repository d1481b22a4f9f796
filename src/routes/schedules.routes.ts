import { Router, type Request, type Response } from 'express';
import type { RootDb } from '../db/db.js';
import { actorOf, allow } from '../lti/actor.js';
import { HttpError, NotFound } from '../errors.js';
import { isFragmentRequest, linkWith, render } from '../http/render.js';
import { parseInput } from '../validation.js';
import { findSchedule, listRuns, listSchedules, scopeChoices } from '../models/schedules/schedules.repository.js';
import { scheduleFormSchema } from '../models/schedules/schedules.schema.js';
import { changeSchedule, createSchedule, pauseSchedule } from '../models/schedules/schedules.service.js';
import { PRIORITIES } from '../models/queue/queue.table.js';
import { formValues, presentRun, presentSchedule } from './schedules.present.js';
import { idParam } from './params.js';
import { withDeps } from './handlers.js';

/**
 * Batch schedules and automatic mode (issue 20): the platform's schedules with their next run, a form to make or
 * change one, pause and resume, and the history of runs. The worker runs them (jobs/batch-schedules.job.ts).
 */
export interface ScheduleRouteDeps {
  db: RootDb;
}

const RUNS = 50;
const FORM_FIELDS = ['name', 'trigger', 'intervalMinutes', 'cron', 'thresholdItems', 'thresholdWaitMinutes', 'windowStart', 'windowEnd', 'course', 'task', 'priority', 'minItems', 'maxItems', 'sending'];

export function schedulesRoutes(deps: ScheduleRouteDeps): Router {
  const on = withDeps(deps);
  const router = Router();
  router.use('/admin/schedules', allow('administrator'));
  router.get('/admin/schedules', on((d, req, res) => showList(d, req, res)));
  router.post('/admin/schedules', on(create));
  router.get('/admin/schedules/:scheduleId', on((d, req, res) => showOne(d, req, res, idParam(req.params.scheduleId, 'The schedule'))));
  router.post('/admin/schedules/:scheduleId', on(save));
  router.post('/admin/schedules/:scheduleId/pause', on((d, req, res) => pause(d, req, res, true)));
  router.post('/admin/schedules/:scheduleId/resume', on((d, req, res) => pause(d, req, res, false)));
  return router;
}

type FormState = { values?: Record<string, string>; fields?: Record<string, string>; message?: { kind: 'success' | 'error'; text: string }; status?: number };

const typed = (body: Record<string, unknown>) => Object.fromEntries(FORM_FIELDS.map((k) => [k, typeof body[k] === 'string' ? body[k] : '']));

async function showList(deps: ScheduleRouteDeps, req: Request, res: Response, form: FormState = {}): Promise<void> {
  const { platformId } = actorOf(res);
  const [schedules, runs, choices] = await Promise.all([listSchedules(deps.db, platformId), listRuns(deps.db, platformId, null, RUNS), scopeChoices(deps.db, platformId)]);
  render(
    req,
    res,
    'pages/admin/schedules',
    {
      title: 'Batch schedules',
      schedules: schedules.map(presentSchedule),
      runs: runs.map(presentRun),
      choices: { ...choices, priorities: PRIORITIES },
      values: form.values ?? formValues(),
      fields: form.fields ?? {},
      message: form.message ?? null,
      action: '/admin/schedules',
    },
    { status: form.status },
  );
}

async function showOne(deps: ScheduleRouteDeps, req: Request, res: Response, id: number, form: FormState = {}): Promise<void> {
  const { platformId } = actorOf(res);
  const s = await findSchedule(deps.db, platformId, id);
  if (!s) throw NotFound('The schedule');
  const [runs, choices] = await Promise.all([listRuns(deps.db, platformId, id, RUNS), scopeChoices(deps.db, platformId)]);
  render(
    req,
    res,
    'pages/admin/schedule',
    {
      title: `Schedule: ${s.name}`,
      schedule: presentSchedule(s),
      runs: runs.map(presentRun),
      choices: { ...choices, priorities: PRIORITIES },
      values: form.values ?? formValues(s),
      fields: form.fields ?? {},
      message: form.message ?? null,
      action: `/admin/schedules/${id}`,
    },
    { status: form.status },
  );
}

/** After a change: the page again (htmx, with the message) or a redirect to it (a plain form). */
function done(req: Request, res: Response, href: string, show: () => Promise<void>): Promise<void> | void {
  if (!isFragmentRequest(req)) return res.redirect(303, linkWith(actorOf(res).ltik)(href));
  return show();
}

async function create(deps: ScheduleRouteDeps, req: Request, res: Response): Promise<void> {
  const actor = actorOf(res);
  const body = (req.body ?? {}) as Record<string, unknown>;
  try {
    const input = parseInput(scheduleFormSchema, body);
    await deps.db.transaction((tx) => createSchedule(tx, { platformId: actor.platformId, userId: actor.userId }, input, new Date()));
  } catch (err) {
    if (err instanceof HttpError && err.status === 422) return showList(deps, req, res, { values: typed(body), fields: err.fields ?? {}, message: { kind: 'error', text: err.message }, status: 422 });
    throw err;
  }
  await done(req, res, '/admin/schedules', () => showList(deps, req, res, { message: { kind: 'success', text: 'Schedule saved.' } }));
}

async function save(deps: ScheduleRouteDeps, req: Request, res: Response): Promise<void> {
  const actor = actorOf(res);
  const id = idParam(req.params.scheduleId, 'The schedule');
  const body = (req.body ?? {}) as Record<string, unknown>;
  try {
    const input = parseInput(scheduleFormSchema, body);
    await deps.db.transaction((tx) => changeSchedule(tx, { platformId: actor.platformId, userId: actor.userId }, id, input, new Date()));
  } catch (err) {
    if (err instanceof HttpError && err.status === 422 && (await findSchedule(deps.db, actor.platformId, id))) {
      return showOne(deps, req, res, id, { values: typed(body), fields: err.fields ?? {}, message: { kind: 'error', text: err.message }, status: 422 });
    }
    throw err;
  }
  await done(req, res, `/admin/schedules/${id}`, () => showOne(deps, req, res, id, { message: { kind: 'success', text: 'Schedule saved; its next run is counted from now.' } }));
}

async function pause(deps: ScheduleRouteDeps, req: Request, res: Response, paused: boolean): Promise<void> {
  const actor = actorOf(res);
  const id = idParam(req.params.scheduleId, 'The schedule');
  await deps.db.transaction((tx) => pauseSchedule(tx, { platformId: actor.platformId, userId: actor.userId }, id, paused, new Date()));
  await done(req, res, '/admin/schedules', () => showList(deps, req, res, { message: { kind: 'success', text: paused ? 'Schedule paused.' : 'Schedule resumed.' } }));
}
