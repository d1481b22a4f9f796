import { Router } from 'express';
import type { IdToken, ProviderInstance } from 'ltijs';
import { z } from 'zod';
import type { RootDb } from '../db/db.js';
import { actorOf, allow, courseOf } from '../lti/actor.js';
import { TASK_ID_CUSTOM_PARAM } from '../lti/launch.js';
import { LTI_ROUTES } from '../lti/provider.js';
import { BadRequest, HttpError, NotFound } from '../errors.js';
import { render } from '../http/render.js';
import { recordAudit } from '../models/audit/audit.repository.js';
import { createTask, findTaskInCourse, listTasksForCourse, updateTaskLineItem } from '../models/tasks/tasks.repository.js';
import { resourceIdFor } from '../models/grades/grade-sync.service.js';

const choice = z.object({
  taskId: z.union([z.literal('new'), z.coerce.number().int().positive()]),
  title: z.string().trim().max(200, 'A title has at most 200 characters.').optional(),
  maxScore: z.coerce.number({ error: 'Enter a number.' }).positive('The maximum score must be above 0.').max(1000, 'The maximum score is at most 1000.').optional(),
});

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

  router.get('/deep-linking', async (req, res) => {
    const tasks = await listTasksForCourse(deps.db, courseOf(actorOf(res)));
    render(req, res, 'pages/deep-linking/select', { title: 'Add an activity', tasks, values: {}, fields: {} });
  });

  router.post('/deep-linking', async (req, res) => {
    const actor = actorOf(res);
    const courseId = courseOf(actor);
    const parsed = choice.safeParse(req.body ?? {});
    const values = { title: String(req.body?.title ?? ''), maxScore: String(req.body?.maxScore ?? '') };
    const fields: Record<string, string> = {};
    if (!parsed.success) for (const i of parsed.error.issues) fields[String(i.path[0])] ??= i.message;
    else if (parsed.data.taskId === 'new' && !parsed.data.title) fields.title = 'Give the new task a title.';
    if (Object.keys(fields).length || !parsed.success) {
      const tasks = await listTasksForCourse(deps.db, courseId);
      return render(req, res, 'pages/deep-linking/select', { title: 'Add an activity', tasks, values, fields }, { status: 422 });
    }
    const data = parsed.data;
    if (data.taskId !== 'new') {
      const existing = await findTaskInCourse(deps.db, courseId, data.taskId);
      if (!existing) throw NotFound('The task');
      // A second placement would give the task a second gradebook column and split its grades.
      if (existing.resourceLinkId || existing.lineItemUrl) {
        const tasks = await listTasksForCourse(deps.db, courseId);
        const message = `“${existing.title}” is already in the course with its gradebook column. Each task is placed once; choose “A new task” to add another.`;
        return render(req, res, 'pages/deep-linking/select', { title: 'Add an activity', tasks, values, fields: { taskId: message } }, { status: 422 });
      }
    }
    const task = await deps.db.transaction(async (tx) => {
      if (data.taskId !== 'new') {
        const existing = await findTaskInCourse(tx, courseId, data.taskId);
        if (!existing) throw NotFound('The task');
        if (!existing.lineItemsUrl && actor.context.endpoint?.lineitems) await updateTaskLineItem(tx, existing.id, null, actor.context.endpoint.lineitems);
        return existing;
      }
      // The course's line item container, so grade passback finds (by resource id) the column the LMS makes now.
      const created = await createTask(tx, { courseId, resourceLinkId: null, title: data.title!, maxScore: data.maxScore ?? 10, createdBy: actor.userId, lineItemsUrl: actor.context.endpoint?.lineitems ?? null });
      await recordAudit(tx, { platformId: actor.platformId, courseId, actorId: actor.userId, actorKind: 'user', action: 'task.created', entityType: 'task', entityId: created.id, details: { via: 'deep_linking' } });
      return created;
    });
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
