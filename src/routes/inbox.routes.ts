import { Router, type Request, type Response } from 'express';
import type { RootDb } from '../db/db.js';
import { actorOf, allow, type Actor } from '../lti/actor.js';
import { NotFound } from '../errors.js';
import { render } from '../http/render.js';
import { isInInbox, listInbox, markRead, type InboxOwner } from '../models/notifications/notifications.repository.js';
import { idParam } from './params.js';
import { withDeps } from './handlers.js';
import { formatDateTime } from './present.js';

/** Every role's inbox: what the tool has to tell the person (feedback ready, reviews waiting, work that failed…). */
export interface InboxDeps {
  db: RootDb;
}

export function inboxRoutes(deps: InboxDeps): Router {
  const on = withDeps(deps);
  const router = Router();
  router.use('/inbox', allow('student', 'instructor', 'administrator'));
  router.get('/inbox', on(showInbox));
  router.post('/inbox/read-all', on(readAll));
  router.post('/inbox/:notificationId/read', on(readOne));
  return router;
}

export function inboxOwnerOf(actor: Actor): InboxOwner {
  return { platformId: actor.platformId, userId: actor.userId, administrator: actor.roles.includes('administrator') };
}

async function showInbox(deps: InboxDeps, req: Request, res: Response, message?: string): Promise<void> {
  const items = await listInbox(deps.db, inboxOwnerOf(actorOf(res)));
  render(
    req,
    res,
    'pages/inbox',
    {
      title: 'Inbox',
      message: message ?? null,
      items: items.map((n) => ({ ...n, at: formatDateTime(n.createdAt), atIso: n.createdAt.toISOString(), unread: n.readAt === null })),
    },
    { fragment: 'partials/_inbox-list' },
  );
}

async function readOne(deps: InboxDeps, req: Request, res: Response): Promise<void> {
  const owner = inboxOwnerOf(actorOf(res));
  const id = idParam(req.params.notificationId, 'The notification');
  if (!(await isInInbox(deps.db, owner, id))) throw NotFound('The notification');
  await markRead(deps.db, owner, id);
  await showInbox(deps, req, res, 'Marked as read.');
}

async function readAll(deps: InboxDeps, req: Request, res: Response): Promise<void> {
  const n = await markRead(deps.db, inboxOwnerOf(actorOf(res)), null);
  await showInbox(deps, req, res, n ? `${n} marked as read.` : 'Nothing was unread.');
}
