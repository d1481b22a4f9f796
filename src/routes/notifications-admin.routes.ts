import { Router, type Request, type Response } from 'express';
import type { RootDb } from '../db/db.js';
import type { Config } from '../config.js';
import { actorOf, allow } from '../lti/actor.js';
import { HttpError } from '../errors.js';
import { linkWith, render } from '../http/render.js';

import { parseInput } from '../validation.js';
import { addressCoverage, outboxSummary } from '../models/notifications/email-outbox.repository.js';
import { changeWording, eventKindOf, resetWording, wordingsFor } from '../models/notifications/notification-settings.service.js';
import { wordingSchema } from '../models/notifications/notifications.schema.js';
import { formatDateTime } from './present.js';
import { withDeps } from './handlers.js';

/**
 * The administrators' Notifications page: whether e-mail goes out (and to how many people the LMS gave an address),
 * e-mail that failed or bounced, and each event's wording for this platform, editable.
 */
export interface NotificationsAdminDeps {
  db: RootDb;
  mail: Config['mail'];
}

export function notificationsAdminRoutes(deps: NotificationsAdminDeps): Router {
  const on = withDeps(deps);
  const router = Router();
  router.use('/admin/notifications', allow('administrator'));
  router.get('/admin/notifications', on(showPage));
  // The event is named in the query (the form repeats it in its body): a kind is not a record of anyone's.
  router.get('/admin/notifications/wording', on((d, req, res) => showWording(d, req, res)));
  router.post('/admin/notifications/wording', on(saveWording));
  router.post('/admin/notifications/wording/reset', on(reset));
  return router;
}

const DAYS = 30;

/** The event a request is about: `kind` of the form's body, else of the query. */
const kindOf = (req: Request) => {
  const fromBody = (req.body as Record<string, unknown> | undefined)?.kind;
  return eventKindOf(typeof fromBody === 'string' ? fromBody : typeof req.query.kind === 'string' ? req.query.kind : undefined);
};

async function showPage(deps: NotificationsAdminDeps, req: Request, res: Response): Promise<void> {
  const { platformId } = actorOf(res);
  const [coverage, summary, wordings] = await Promise.all([addressCoverage(deps.db, platformId), outboxSummary(deps.db, platformId, DAYS), wordingsFor(deps.db, platformId)]);
  render(req, res, 'pages/admin/notifications', {
    title: 'Notifications',
    email: { configured: Boolean(deps.mail.smtpUrl), from: deps.mail.from, maxAttempts: deps.mail.maxAttempts },
    coverage,
    noAddresses: coverage.length > 0 && coverage.every((c) => c.withAddress === 0),
    days: DAYS,
    byStatus: summary.byStatus,
    problems: summary.problems.map((p) => ({ ...p, atText: formatDateTime(p.at), atIso: p.at.toISOString() })),
    wordings,
  });
}

type Form = { values?: { subject: string; body: string }; fields?: Record<string, string>; message?: string | null; status?: number };

async function showWording(deps: NotificationsAdminDeps, req: Request, res: Response, form: Form = {}): Promise<void> {
  const kind = kindOf(req);
  const w = (await wordingsFor(deps.db, actorOf(res).platformId)).find((x) => x.kind === kind)!;
  render(
    req,
    res,
    'pages/admin/notification-wording',
    { title: `Wording: ${w.label}`, w, values: form.values ?? { subject: w.subject, body: w.body }, fields: form.fields ?? {}, message: form.message ?? null },
    { status: form.status, fragment: 'partials/admin/_wording-form' },
  );
}

async function saveWording(deps: NotificationsAdminDeps, req: Request, res: Response): Promise<void> {
  const actor = actorOf(res);
  const kind = kindOf(req);
  const body = (req.body ?? {}) as Record<string, unknown>;
  try {
    const input = parseInput(wordingSchema, body);
    await deps.db.transaction((tx) => changeWording(tx, { platformId: actor.platformId, userId: actor.userId }, kind, input));
  } catch (err) {
    if (err instanceof HttpError && err.status === 422) {
      const values = { subject: typeof body.subject === 'string' ? body.subject : '', body: typeof body.body === 'string' ? body.body : '' };
      return showWording(deps, req, res, { values, fields: err.fields ?? {}, message: err.message, status: 422 });
    }
    throw err;
  }
  await showWording(deps, req, res, { message: 'Saved: new notices of this event use this wording.' });
}

async function reset(deps: NotificationsAdminDeps, req: Request, res: Response): Promise<void> {
  const actor = actorOf(res);
  const kind = kindOf(req);
  const removed = await deps.db.transaction((tx) => resetWording(tx, { platformId: actor.platformId, userId: actor.userId }, kind));
  if (req.get('HX-Request') !== 'true') return res.redirect(303, linkWith(actor.ltik)('/admin/notifications/wording', { kind }));
  await showWording(deps, req, res, { message: removed ? 'Back to the default wording.' : 'This event already uses the default wording.' });
}
