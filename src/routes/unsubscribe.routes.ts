import { Router, type Request, type Response } from 'express';
import type { RootDb } from '../db/db.js';
import { NotFound } from '../errors.js';
import { render } from '../http/render.js';
import { verifyUnsubscribeToken } from '../mail/unsubscribe.js';
import { findContact, unsubscribe } from '../models/notifications/preferences.repository.js';
import { recordAudit } from '../models/audit/audit.repository.js';
import { withDeps } from './handlers.js';

/**
 * The one-click unsubscribe of every e-mail, reachable without a launch: the signed link is the only authority it
 * needs (it acts for one person and only turns e-mail off). GET shows a button (a link scanner that follows links
 * must not unsubscribe anyone); POST — the button, or a mail client's RFC 8058 one-click — does it.
 */
export interface UnsubscribeDeps {
  db: RootDb;
  secret: string;
}

export function unsubscribeRoutes(deps: UnsubscribeDeps): Router {
  const on = withDeps(deps);
  const router = Router();
  router.get('/email/unsubscribe/:token', on(confirm));
  router.post('/email/unsubscribe/:token', on(apply));
  return router;
}

async function personOf(deps: UnsubscribeDeps, req: Request): Promise<{ userId: number; platformId: number; email: string | null }> {
  const userId = verifyUnsubscribeToken(deps.secret, String(req.params.token ?? ''));
  const contact = userId === null ? null : await findContact(deps.db, userId);
  if (userId === null || !contact) throw NotFound('This unsubscribe link');
  return { userId, ...contact };
}

/** "a•••@example.edu": enough to recognise one's address, not enough to harvest it from a forwarded link. */
const masked = (email: string | null) => (email ? email.replace(/^(.)[^@]*/, '$1•••') : null);

async function confirm(deps: UnsubscribeDeps, req: Request, res: Response): Promise<void> {
  const person = await personOf(deps, req);
  render(req, res, 'pages/unsubscribe', { title: 'Stop e-mail from llm-assess', address: masked(person.email), done: false, action: req.originalUrl.split('?')[0] });
}

async function apply(deps: UnsubscribeDeps, req: Request, res: Response): Promise<void> {
  const person = await personOf(deps, req);
  await deps.db.transaction(async (tx) => {
    if (await unsubscribe(tx, person.userId)) {
      await recordAudit(tx, { platformId: person.platformId, actorId: person.userId, actorKind: 'user', action: 'notifications.unsubscribed', entityType: 'user', entityId: person.userId });
    }
  });
  render(req, res, 'pages/unsubscribe', { title: 'E-mail turned off', address: masked(person.email), done: true, action: null });
}
