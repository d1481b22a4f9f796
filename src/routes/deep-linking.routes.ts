import { Router, type Request, type Response } from 'express';
import type { IdToken, ProviderInstance } from 'ltijs';
import type { RootDb } from '../db/db.js';
import { actorOf, allow, courseOf } from '../lti/actor.js';
import { TASK_ID_CUSTOM_PARAM } from '../lti/launch.js';
import { LTI_ROUTES } from '../lti/provider.js';
import { BadRequest, HttpError } from '../errors.js';
import { render } from '../http/render.js';
import { listTasksForCourse } from '../models/tasks/tasks.repository.js';
import { AlreadyPlaced, isPlaced, placeTask } from '../models/tasks/placement.service.js';
import { placementSchema } from '../models/tasks/tasks.schema.js';
import { NEW_TASK_VALUES } from './task-settings.present.js';
import { fieldsOf } from '../validation.js';
import { formText } from './form.js';
import { resourceIdFor } from '../models/grades/grade-sync.service.js';

/**
 * Deep linking (Canvas assignment/link selection, Moodle "select content"): an instructor picks a task or
 * creates one, and we answer the LMS with a resource link and a gradebook line item for it.
 */
export function deepLinkingRoutes(deps: { db: RootDb; lti: ProviderInstance; toolUrl: string }): Router {
  const router = Router();
  router.use('/deep-linking', allow('instructor', 'administrator'), (_req, res, next) => {
    if (actorOf(res).messageType !== 'LtiDeepLinkingRequest') {
      return next(BadRequest('This page only opens from your LMS when you add an llm-assess activity.'));
    }
    next();
  });

  /** The course's tasks as the picker shows them: placed ones are listed but cannot be chosen again. */
  const pickable = async (res: Response) =>
    (await listTasksForCourse(deps.db, courseOf(actorOf(res)))).map((t) => ({ id: t.id, title: t.title, maxScore: t.maxScore, placed: isPlaced(t) }));

  router.get('/deep-linking', async (req, res) => {
    render(req, res, 'pages/deep-linking/select', { title: 'Add an activity', compact: true, tasks: await pickable(res), values: NEW_TASK_VALUES, fields: {} });
  });

  const showChoice = async (req: Request, res: Response, values: Record<string, string>, fields: Record<string, string>) =>
    render(req, res, 'pages/deep-linking/select', { title: 'Add an activity', compact: true, tasks: await pickable(res), values, fields }, { status: 422 });

  router.post('/deep-linking', async (req, res) => {
    const actor = actorOf(res);
    // What was typed, shown again when the form is refused.
    const typed = Object.fromEntries(Object.keys(NEW_TASK_VALUES).map((k) => [k, formText(req.body, k)]).filter(([, v]) => v !== ''));
    const values = { ...NEW_TASK_VALUES, ...typed, dueAtIso: '' };
    const parsed = placementSchema.safeParse(req.body ?? {});
    if (!parsed.success) return showChoice(req, res, values, fieldsOf(parsed.error));
    const who = { platformId: actor.platformId, courseId: courseOf(actor), userId: actor.userId, lineItemsUrl: actor.context.endpoint?.lineitems ?? null, registrationId: actor.registrationId };
    let task;
    try {
      task = await deps.db.transaction((tx) => placeTask(tx, who, parsed.data));
    } catch (err) {
      if (err instanceof AlreadyPlaced) return showChoice(req, res, values, { taskId: err.message });
      throw err;
    }
    const token = res.locals.token as IdToken;
    const settings = actor.context.deepLinkingSettings;
    if (!settings?.deep_link_return_url) throw new HttpError(400, 'no_return_url', 'Your LMS did not say where to return the new activity.');
    const jwt = await deps.lti.DeepLinking.createDeepLinkingMessage(
      token,
      [
        {
          type: 'ltiResourceLink',
          title: task.title,
          url: `${deps.toolUrl}${LTI_ROUTES.launch}`,
          custom: { [TASK_ID_CUSTOM_PARAM]: String(task.id) },
          lineItem: { label: task.title, scoreMaximum: task.maxScore, resourceId: resourceIdFor(task.id), tag: 'llm-assess' },
        },
      ],
      { message: `Added “${task.title}”.` },
    );
    // This page posts to the LMS: allow that one origin as a form target.
    const returnOrigin = new URL(settings.deep_link_return_url).origin;
    res.setHeader('Content-Security-Policy', String(res.getHeader('Content-Security-Policy')).replace("form-action 'self'", `form-action 'self' ${returnOrigin}`));
    render(req, res, 'pages/deep-linking/return', { title: 'Returning to your LMS', returnUrl: settings.deep_link_return_url, jwt });
  });

  return router;
}
