import { Router, type Request, type Response } from 'express';
import type { Config } from '../config.js';
import type { RootDb } from '../db/db.js';
import { actorOf, allow } from '../lti/actor.js';
import { render } from '../http/render.js';
import { exportPerson, requestErasure } from '../models/privacy/person-data.service.js';
import { presentExport } from './people.present.js';
import { withDeps } from './handlers.js';
import { idParam } from './params.js';
import { formatDateTime } from './present.js';
import { consentWording } from '../models/privacy/consent.js';
import { listConsentOf } from '../models/privacy/consent.repository.js';
import { withdrawStudentConsent } from '../models/privacy/consent.service.js';

type MyDataDeps = { db: RootDb; config: Pick<Config, 'encryptionKey'> };

/** A student's own data (issue 17, item 6): see and download it, and ask for it to be deleted. */
export function myDataRoutes(deps: MyDataDeps): Router {
  const on = withDeps(deps);
  const router = Router();
  router.use(['/student/my-data', '/student/my-data.json'], allow('student'));
  router.get('/student/my-data', on(showMyData));
  router.get('/student/my-data.json', on(downloadMyData));
  router.post('/student/my-data/erasure', on(askForErasure));
  router.post('/student/my-data/consent/:courseId/withdraw', on(withdraw));
  return router;
}

async function showMyData(deps: MyDataDeps, req: Request, res: Response, notice?: string, fragment?: string): Promise<void> {
  const { platformId, userId } = actorOf(res);
  const data = await exportPerson(deps.db, deps.config, platformId, userId, { forThePerson: true });
  const open = data.requests.find((r) => r.status === 'requested' || r.status === 'scheduled');
  const consents = (await listConsentOf(deps.db, userId)).map((c) => ({ ...c, given: formatDateTime(c.givenAt), withdrawn: c.withdrawnAt ? formatDateTime(c.withdrawnAt) : null, wording: consentWording(c.wordingVersion) }));
  render(req, res, 'pages/student/my-data', { title: 'My data', view: presentExport(data), open: open ?? null, consents, notice: notice ?? null }, { fragment: fragment ?? 'partials/student/_my-data-erasure' });
}

async function downloadMyData(deps: MyDataDeps, _req: Request, res: Response): Promise<void> {
  const { platformId, userId } = actorOf(res);
  const data = await exportPerson(deps.db, deps.config, platformId, userId, { forThePerson: true });
  res.status(200).type('application/json').attachment('my-data.json').send(JSON.stringify(data, null, 2));
}

async function askForErasure(deps: MyDataDeps, req: Request, res: Response): Promise<void> {
  const actor = actorOf(res);
  const { created } = await deps.db.transaction((tx) => requestErasure(tx, { platformId: actor.platformId, userId: actor.userId }));
  await showMyData(deps, req, res, created ? 'Your request was sent to the administrators of your institution\'s llm-assess.' : 'Your request is already with the administrators.');
}

/** Withdraws the student's consent in one of their courses (their own record only: the query is by their id). */
async function withdraw(deps: MyDataDeps, req: Request, res: Response): Promise<void> {
  const { platformId, userId } = actorOf(res);
  const courseId = idParam(req.params.courseId, 'The course');
  const { skipped } = await deps.db.transaction((tx) => withdrawStudentConsent(tx, { platformId, courseId, userId }));
  const note = skipped ? ` ${skipped} submission${skipped === 1 ? '' : 's'} waiting in the queue will not be sent.` : '';
  await showMyData(deps, req, res, `Consent withdrawn: nothing more of yours in this course goes to an LLM unless you agree again.${note}`, 'partials/student/_my-data-consent');
}
