import { Router, type Request, type Response } from 'express';
import type { Config } from '../config.js';
import type { RootDb } from '../db/db.js';
import { enqueueSoon, type Jobs } from '../job-queue.js';
import type { Logger } from '../log.js';
import { actorOf, allow } from '../lti/actor.js';
import { exportPerson, scheduleErasure } from '../models/privacy/person-data.service.js';
import { idParam } from './params.js';
import { withDeps } from './handlers.js';

type PeopleApiDeps = { db: RootDb; config: Pick<Config, 'encryptionKey'>; jobs?: Jobs; logger: Logger };

/** A person's data through the JSON API (openapi/paths/people.yaml): the export, and deletion, as on the People page. */
export function peopleApiRoutes(deps: PeopleApiDeps): Router {
  const on = withDeps(deps);
  const router = Router();
  router.use('/api/people', allow('administrator'));
  router.get('/api/people/:userId/export/', on(exportJson));
  router.delete('/api/people/:userId/', on(erase));
  return router;
}

async function exportJson(deps: PeopleApiDeps, req: Request, res: Response): Promise<void> {
  const { platformId } = actorOf(res);
  res.json(await exportPerson(deps.db, deps.config, platformId, idParam(req.params.userId, 'The person')));
}

async function erase(deps: PeopleApiDeps, req: Request, res: Response): Promise<void> {
  const actor = actorOf(res);
  const userId = idParam(req.params.userId, 'The person');
  const requestId = await deps.db.transaction((tx) => scheduleErasure(tx, { platformId: actor.platformId, userId: actor.userId, source: 'api' }, userId));
  await enqueueSoon(deps.jobs, deps.logger, 'apply-retention', {});
  res.status(202).json({ requestId, status: 'scheduled' });
}
