import { Router } from 'express';
import { actorOf, allow } from '../lti/actor.js';
import { HttpError, Invalid } from '../errors.js';
import { applyQueueAction } from '../models/queue/queue.service.js';
import { actionSchema, parseSelection } from '../models/queue/queue.schema.js';
import { changeQueue } from '../models/queue/stats-cache.js';
import { filterFromBody, showQueueBoard, stringValues, type QueueRouteDeps } from './queue.page.js';

/** The administrator's queue dashboard: everything waiting on their platform, and what to do with it. */
export function queueRoutes(deps: QueueRouteDeps): Router {
  const router = Router();
  router.use('/admin/queue', allow('administrator'));

  router.get('/admin/queue', async (req, res) => {
    await showQueueBoard(deps, req, res, req.query as Record<string, unknown>);
  });

  /** Bulk actions on the ticked items or on everything matching the filter: priority, notes, skip, reschedule, requeue. */
  router.post('/admin/queue/actions', async (req, res) => {
    const actor = actorOf(res);
    const body = (req.body ?? {}) as Record<string, unknown>;
    const filter = filterFromBody(body);
    try {
      const selection = parseSelection({ scope: body.scope, ids: body.ids }, filter);
      const action = actionSchema.safeParse({ action: body.action, priority: body.newPriority, notes: body.notes, notBefore: body.notBefore });
      if (!action.success) {
        const fields: Record<string, string> = {};
        for (const i of action.error.issues) {
          const key = String(i.path[0] ?? 'action');
          fields[key === 'priority' ? 'newPriority' : key] ??= key === 'action' ? 'Choose an action.' : i.message;
        }
        throw Invalid(fields);
      }
      const result = await changeQueue(deps.db, actor.platformId, (tx) => applyQueueAction(tx, { platformId: actor.platformId, userId: actor.userId }, selection, action.data));
      await showQueueBoard(deps, req, res, filter, { message: { kind: result.changed ? 'success' : 'error', text: result.message }, status: result.changed ? 200 : 409 });
    } catch (err) {
      if (err instanceof HttpError && err.status < 500) {
        return showQueueBoard(deps, req, res, filter, { message: { kind: 'error', text: err.message, fields: err.fields }, status: err.status, values: stringValues(body) });
      }
      throw err;
    }
  });

  return router;
}
