import { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import type { RootDb } from '../db/db.js';
import { actorOf, allow } from '../lti/actor.js';
import { HttpError, NotFound } from '../errors.js';
import { render } from '../http/render.js';
import { findPlatformById, listDeployments, listJoinedRegistrations, platformCounts } from '../models/tenancy/platforms.repository.js';
import { allowDeployment, revokeDeployment } from '../lti/registration.service.js';
import { createRegistrationInvite } from '../lti/dynamic-registration.js';
import { listInvitesOf } from '../models/tenancy/invites.repository.js';
import type { PlatformDirectory } from '../lti/platform-directory.js';
import { listUnread, dismiss } from '../models/notifications/notifications.repository.js';
import { formatDateTime } from './present.js';
import { presentInvite } from './admin.present.js';
import { idParam } from './params.js';
import { fieldsOf } from '../validation.js';
import { withDeps } from './handlers.js';

export interface AdminRouteDeps {
  db: RootDb;
  platforms: PlatformDirectory;
  toolUrl: string;
}

/** The administrator's panel, scoped to their own platform (tenant) in every query. */
export function adminRoutes(deps: AdminRouteDeps): Router {
  const on = withDeps(deps);
  const router = Router();
  router.use('/admin', allow('administrator'));
  router.get('/admin', on((d, req, res) => overview(d, req, res)));
  router.post('/admin/notifications/:notificationId/dismiss', on(dismissNotification));
  // /admin/queue and /admin/batches: src/routes/queue.routes.ts and batches.routes.ts.
  router.get('/admin/platforms', on((d, req, res) => platformsPage(d, req, res)));
  router.post('/admin/platforms/deployments', on(addDeployment));
  router.post('/admin/platforms/deployments/remove', on(removeDeployment));
  router.post('/admin/registration-invites', on(inviteRegistration));
  return router;
}

async function overview(deps: AdminRouteDeps, req: Request, res: Response, notice: string | null = null): Promise<void> {
  const actor = actorOf(res);
  const stats = await platformCounts(deps.db, actor.platformId);
  const alerts = (await listUnread(deps.db, actor.platformId, actor.userId)).map((n) => ({ ...n, at: formatDateTime(n.createdAt) }));
  render(req, res, 'pages/admin/overview', { title: 'Administration', platformName: actor.platformName, stats, alerts, notice }, { fragment: 'partials/admin/_alerts' });
}

/** Notices to the platform's administrators (budget alerts): dismissed for all of them at once, with those stacked under it. */
async function dismissNotification(deps: AdminRouteDeps, req: Request, res: Response): Promise<void> {
  const actor = actorOf(res);
  const dismissed = await dismiss(deps.db, actor.platformId, actor.userId, idParam(req.params.notificationId, 'The notification'));
  if (!dismissed) throw NotFound('The notification');
  await overview(deps, req, res, dismissed === 1 ? 'Notification dismissed.' : `${dismissed} alerts of this budget dismissed (the earlier ones stacked under it).`);
}

type PlatformsExtra = { fields?: Record<string, string>; invite?: { url: string; expiresAt: Date } };

/** The registration page (or, for htmx, one panel of it) of the administrator's own platform. */
async function platformsPage(deps: AdminRouteDeps, req: Request, res: Response, extra: PlatformsExtra = {}, status = 200, fragment?: string): Promise<void> {
  const actor = actorOf(res);
  const platform = await findPlatformById(deps.db, actor.platformId);
  if (!platform) throw NotFound('Your platform');
  const invites = (await listInvitesOf(deps.db, platform.id)).map((i) => presentInvite(i));
  const invite = extra.invite && { url: extra.invite.url, expiresAt: formatDateTime(extra.invite.expiresAt), expiresAtIso: extra.invite.expiresAt.toISOString() };
  const clients = await Promise.all((await listJoinedRegistrations(deps.db, platform.id)).map(async (c) => ({ ...c, deployments: await listDeployments(deps.db, c.id) })));
  const model = { title: 'LMS registration', platform, clients, deployments: await listDeployments(deps.db, platform.id), fields: extra.fields ?? {}, invite, invites };
  render(req, res, 'pages/admin/platforms', model, { status, fragment });
}

async function addDeployment(deps: AdminRouteDeps, req: Request, res: Response): Promise<void> {
  const actor = actorOf(res);
  try {
    await allowDeployment(deps, actor.platformId, req.body?.deploymentId, `user ${actor.userId}`);
  } catch (err) {
    // 422: the form again, with the message beside the field.
    if (err instanceof HttpError && err.status === 422) return platformsPage(deps, req, res, { fields: err.fields }, 422, 'partials/admin/_deployments');
    throw err;
  }
  await platformsPage(deps, req, res, {}, 200, 'partials/admin/_deployments');
}

async function removeDeployment(deps: AdminRouteDeps, req: Request, res: Response): Promise<void> {
  const actor = actorOf(res);
  await revokeDeployment(deps, actor.platformId, req.body?.deploymentId, `user ${actor.userId}`);
  await platformsPage(deps, req, res, {}, 200, 'partials/admin/_deployments');
}

const inviteBody = z.object({
  note: z.string().trim().max(200, 'A note has at most 200 characters.').optional(),
  becomes: z.enum(['client', 'platform'], { message: 'Choose what the new registration becomes.' }),
});

/**
 * A platform administrator's link registers another client of their own LMS, never another issuer: an LMS
 * offering another issuer is refused (the tenant takeover of issue 13). New LMSs come from the operator's CLI.
 * What the new client becomes is the administrator's decision, made here: part of this platform (the usual case:
 * Moodle registered again) or a platform of its own (e.g. another institution on a shared Canvas issuer).
 */
async function inviteRegistration(deps: AdminRouteDeps, req: Request, res: Response): Promise<void> {
  const actor = actorOf(res);
  const parsed = inviteBody.safeParse(req.body ?? {});
  if (!parsed.success) return platformsPage(deps, req, res, { fields: fieldsOf(parsed.error) }, 422, 'partials/admin/_registration');
  const invite = await createRegistrationInvite(
    deps.db,
    deps.toolUrl,
    {
      createdBy: `user ${actor.userId} of platform ${actor.platformId}`,
      createdByPlatformId: actor.platformId,
      issuer: actor.issuer,
      joinPlatformId: parsed.data.becomes === 'client' ? actor.platformId : null,
    },
    parsed.data.note,
  );
  await platformsPage(deps, req, res, { invite }, 200, 'partials/admin/_registration');
}
