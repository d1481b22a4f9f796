import { Router } from 'express';
import type { MailCatcher } from '../mail/catcher.js';
import { mailPage } from '../views/mail.view.js';

/** The mail catcher's page (/mail) and its messages as JSON (/api/mail, the contract tool tests read). */
export function mailRoutes(catcher: () => MailCatcher | null): Router {
  const router = Router();
  router.get('/mail', (_req, res) => {
    const c = catcher();
    res.set('Cache-Control', 'no-store').type('html').send(mailPage({ messages: c?.messages() ?? [], listening: c?.url ?? null }));
  });
  router.get('/api/mail', (_req, res) => {
    res.set('Cache-Control', 'no-store').json(catcher()?.messages() ?? []);
  });
  return router;
}
