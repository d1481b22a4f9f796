import { Router, type Request, type Response } from 'express';
import type { Config } from '../config.js';
import type { RootDb } from '../db/db.js';
import { enqueueSoon, type Jobs } from '../job-queue.js';
import type { Logger } from '../log.js';
import { actorOf, allow } from '../lti/actor.js';
import { render } from '../http/render.js';
import { HttpError } from '../errors.js';
import { parseInput } from '../validation.js';
import { listPersonRequests, searchPeople } from '../models/privacy/person-data.repository.js';
import { declineErasure, exportPerson, requirePerson, scheduleErasure } from '../models/privacy/person-data.service.js';
import { erasureForm, peopleQuery } from './people.schema.js';
import { presentExport } from './people.present.js';
import { formatDateTime } from './present.js';
import { idParam } from './params.js';
import { withDeps } from './handlers.js';

type PeopleDeps = { db: RootDb; config: Pick<Config, 'encryptionKey'>; jobs?: Jobs; logger: Logger };

/**
 * A person's data, for the administrators of their platform (issue 17, item 6): find a person, export everything
 * about them (JSON, or a page to read and print), delete it, and decide on students' own requests.
 */
export function peopleRoutes(deps: PeopleDeps): Router {
  const on = withDeps(deps);
  const router = Router();
  router.use('/admin/people', allow('administrator'));
  router.get('/admin/people', on(showPeople));
  router.post('/admin/people/requests/:requestId/decline', on(decline));
  router.get('/admin/people/:userId', on(showPerson));
  router.get('/admin/people/:userId/export', on(showExport));
  router.get('/admin/people/:userId/export.json', on(downloadExport));
  router.post('/admin/people/:userId/erase', on(erase));
  return router;
}

async function showPeople(deps: PeopleDeps, req: Request, res: Response, notice?: string): Promise<void> {
  const { platformId } = actorOf(res);
  let fields: Record<string, string> = {};
  let q: string | undefined;
  try {
    q = parseInput(peopleQuery, req.query).q;
  } catch (err) {
    if (!(err instanceof HttpError && err.status === 422)) throw err;
    fields = err.fields ?? {};
  }
  const people = q ? await searchPeople(deps.db, platformId, q) : [];
  const requests = (await listPersonRequests(deps.db, platformId)).map((r) => ({ ...r, at: formatDateTime(r.createdAt), done: r.completedAt ? formatDateTime(r.completedAt) : null }));
  render(
    req,
    res,
    'pages/admin/people',
    { title: 'People and their data', q: typeof req.query.q === 'string' ? req.query.q : '', people: people.map((p) => ({ ...p, seen: p.lastLaunchAt ? formatDateTime(p.lastLaunchAt) : 'never' })), requests, fields, notice: notice ?? null },
    { status: Object.keys(fields).length ? 422 : 200, fragment: 'partials/admin/_people-results' },
  );
}

async function showPerson(deps: PeopleDeps, req: Request, res: Response, extra: { notice?: string; fields?: Record<string, string>; status?: number } = {}): Promise<void> {
  const { platformId } = actorOf(res);
  const data = await exportPerson(deps.db, deps.config, platformId, idParam(req.params.userId, 'The person'));
  render(req, res, 'pages/admin/person', { title: data.person.name ?? 'A person', data, view: presentExport(data), notice: extra.notice ?? null, fields: extra.fields ?? {} }, { status: extra.status, fragment: 'partials/admin/_person-erase' });
}

async function showExport(deps: PeopleDeps, req: Request, res: Response): Promise<void> {
  const { platformId } = actorOf(res);
  const data = await exportPerson(deps.db, deps.config, platformId, idParam(req.params.userId, 'The person'));
  render(req, res, 'pages/admin/person-export', { title: `Data of ${data.person.name ?? `person ${data.person.id}`}`, view: presentExport(data), nav: [] });
}

async function downloadExport(deps: PeopleDeps, req: Request, res: Response): Promise<void> {
  const { platformId } = actorOf(res);
  const data = await exportPerson(deps.db, deps.config, platformId, idParam(req.params.userId, 'The person'));
  res.status(200).type('application/json').attachment(`person-${data.person.id}.json`).send(JSON.stringify(data, null, 2));
}

async function erase(deps: PeopleDeps, req: Request, res: Response): Promise<void> {
  const actor = actorOf(res);
  const userId = idParam(req.params.userId, 'The person');
  await requirePerson(deps.db, actor.platformId, userId);
  try {
    parseInput(erasureForm, req.body ?? {});
  } catch (err) {
    if (err instanceof HttpError && err.status === 422) return showPerson(deps, req, res, { fields: err.fields, status: 422 });
    throw err;
  }
  await deps.db.transaction((tx) => scheduleErasure(tx, { platformId: actor.platformId, userId: actor.userId, source: 'administrator' }, userId));
  await enqueueSoon(deps.jobs, deps.logger, 'apply-retention', {});
  await showPerson(deps, req, res, { notice: 'Deletion scheduled: the privacy job carries it out now (or, for work still at a provider, once that batch ends). This page shows the result.' });
}

async function decline(deps: PeopleDeps, req: Request, res: Response): Promise<void> {
  const actor = actorOf(res);
  await deps.db.transaction((tx) => declineErasure(tx, actor, idParam(req.params.requestId, 'The request')));
  await showPeople(deps, req, res, 'Request declined. Tell the student why yourself: the tool does not write to them.');
}
