import { Router, type Request, type Response } from 'express';
import type { RootDb } from '../db/db.js';
import { actorOf, allow } from '../lti/actor.js';
import { render } from '../http/render.js';
import { HttpError } from '../errors.js';
import { parseInput } from '../validation.js';
import { getPlatformPrivacy, type PlatformPrivacy } from '../models/privacy/privacy.repository.js';
import { platformPrivacyForm } from '../models/privacy/privacy.schema.js';
import { updatePlatformPrivacy } from '../models/privacy/privacy.service.js';
import { PROVIDERS } from '../models/privacy/privacy.table.js';
import { formText } from './form.js';
import { withDeps } from './handlers.js';

type PrivacyAdminDeps = { db: RootDb };

/** The institution's privacy defaults and limits (issue 17, item 5), for the platform's administrators. */
export function privacyAdminRoutes(deps: PrivacyAdminDeps): Router {
  const on = withDeps(deps);
  const router = Router();
  router.use('/admin/privacy', allow('administrator'));
  router.get('/admin/privacy', on(showSettings));
  router.post('/admin/privacy', on(saveSettings));
  return router;
}

function show(req: Request, res: Response, settings: PlatformPrivacy, options: { fields?: Record<string, string>; values?: Record<string, string>; saved?: boolean; status?: number } = {}): void {
  const values = options.values ?? {
    maxRetentionDays: settings.maxRetentionDays?.toString() ?? '',
    defaultRetentionDays: settings.defaultRetentionDays?.toString() ?? '',
    maxStudentEscalations: String(settings.maxStudentEscalations),
  };
  render(req, res, 'pages/admin/privacy', { title: 'Privacy settings', settings, values, providers: PROVIDERS, fields: options.fields ?? {}, saved: options.saved ?? false }, { status: options.status, fragment: 'partials/admin/_privacy-form' });
}

async function showSettings(deps: PrivacyAdminDeps, req: Request, res: Response): Promise<void> {
  show(req, res, await getPlatformPrivacy(deps.db, actorOf(res).platformId));
}

async function saveSettings(deps: PrivacyAdminDeps, req: Request, res: Response): Promise<void> {
  const actor = actorOf(res);
  try {
    const input = parseInput(platformPrivacyForm, req.body ?? {});
    const saved = await deps.db.transaction((tx) => updatePlatformPrivacy(tx, actor, input));
    show(req, res, saved, { saved: true });
  } catch (err) {
    if (!(err instanceof HttpError && err.status === 422)) throw err;
    const values = { maxRetentionDays: formText(req.body, 'maxRetentionDays'), defaultRetentionDays: formText(req.body, 'defaultRetentionDays'), maxStudentEscalations: formText(req.body, 'maxStudentEscalations') };
    show(req, res, await getPlatformPrivacy(deps.db, actor.platformId), { fields: err.fields, values, status: 422 });
  }
}
