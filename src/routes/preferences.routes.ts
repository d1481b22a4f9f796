import { Router, type Request, type Response } from 'express';
import type { RootDb } from '../db/db.js';
import { actorOf, allow } from '../lti/actor.js';
import { HttpError } from '../errors.js';
import { render } from '../http/render.js';
import { parseInput } from '../validation.js';
import { changePreferences, preferencesOf } from '../models/notifications/notification-settings.service.js';
import { preferencesSchema } from '../models/notifications/notifications.schema.js';
import { findContact } from '../models/notifications/preferences.repository.js';
import type { Audience } from '../models/notifications/events.js';
import { withDeps } from './handlers.js';

/** Every role's e-mail preferences: which events by e-mail, how often (or never). */
export interface PreferencesDeps {
  db: RootDb;
  /** Whether this server sends e-mail at all (SMTP_URL set): the page says so when it does not. */
  emailConfigured: boolean;
}

export function preferencesRoutes(deps: PreferencesDeps): Router {
  const on = withDeps(deps);
  const router = Router();
  router.use('/preferences', allow('student', 'instructor', 'administrator'));
  router.get('/preferences', on((d, req, res) => showPreferences(d, req, res)));
  router.post('/preferences', on(save));
  return router;
}

type Form = { values?: Record<string, unknown>; fields?: Record<string, string>; message?: string | null; status?: number };

async function showPreferences(deps: PreferencesDeps, req: Request, res: Response, form: Form = {}): Promise<void> {
  const actor = actorOf(res);
  const [prefs, contact] = await Promise.all([preferencesOf(deps.db, actor.userId, actor.roles as Audience[]), findContact(deps.db, actor.userId)]);
  render(
    req,
    res,
    'pages/preferences',
    { title: 'E-mail preferences', prefs, address: contact?.email || null, emailConfigured: deps.emailConfigured, fields: form.fields ?? {}, message: form.message ?? null },
    { status: form.status, fragment: 'partials/_preferences-form' },
  );
}

async function save(deps: PreferencesDeps, req: Request, res: Response): Promise<void> {
  const actor = actorOf(res);
  try {
    const input = parseInput(preferencesSchema, req.body ?? {});
    await deps.db.transaction((tx) => changePreferences(tx, { platformId: actor.platformId, userId: actor.userId, roles: actor.roles as Audience[] }, input));
  } catch (err) {
    if (err instanceof HttpError && err.status === 422) return showPreferences(deps, req, res, { fields: err.fields ?? {}, message: err.message, status: 422 });
    throw err;
  }
  await showPreferences(deps, req, res, { message: 'Saved.' });
}
