import { Router, type Request, type Response } from 'express';
import type { RootDb } from '../db/db.js';
import { actorOf, allow, courseOf } from '../lti/actor.js';
import { HttpError } from '../errors.js';
import { linkWith, render } from '../http/render.js';
import { saveTaskSettings } from '../models/tasks/task-settings.service.js';
import { taskSettingsSchema } from '../models/tasks/tasks.schema.js';
import type { TaskRow } from '../models/tasks/tasks.repository.js';
import { parseInput } from '../validation.js';
import { withDeps } from './handlers.js';
import { activeVersionOfTask, courseTask, taskFacts } from './instructor-task.page.js';
import { settingsFormValues, type SettingsFormValues } from './task-settings.present.js';

/** A task's settings page: what the students see of it, attempts, due date and when feedback is released. */
export interface TaskSettingsDeps {
  db: RootDb;
}

export function taskSettingsRoutes(deps: TaskSettingsDeps): Router {
  const on = withDeps(deps);
  const router = Router();
  router.use('/instructor/tasks/:taskId/settings', allow('instructor'));
  router.get('/instructor/tasks/:taskId/settings', on(showSettings));
  router.post('/instructor/tasks/:taskId/settings', on(saveSettings));
  return router;
}

async function page(deps: TaskSettingsDeps, req: Request, res: Response, task: TaskRow, form: { values: SettingsFormValues; fields: Record<string, string>; message: string | null; saved: boolean }, status = 200) {
  const version = await activeVersionOfTask(deps.db, task.id);
  render(req, res, 'pages/instructor/task-settings', { title: `Settings: ${task.title}`, task: taskFacts(task, version), linked: Boolean(task.lineItemUrl), ...form }, { status, fragment: 'partials/instructor/_task-settings-form' });
}

async function showSettings(deps: TaskSettingsDeps, req: Request, res: Response): Promise<void> {
  const task = await courseTask(deps.db, actorOf(res), req.params.taskId);
  await page(deps, req, res, task, { values: settingsFormValues(task), fields: {}, message: null, saved: false });
}

async function saveSettings(deps: TaskSettingsDeps, req: Request, res: Response): Promise<void> {
  const actor = actorOf(res);
  const task = await courseTask(deps.db, actor, req.params.taskId);
  const raw = (req.body ?? {}) as Record<string, unknown>;
  const typed = Object.fromEntries(Object.entries(raw).filter(([, v]) => typeof v === 'string')) as Record<string, string>;
  let saved: TaskRow;
  try {
    const input = parseInput(taskSettingsSchema, raw);
    saved = await deps.db.transaction((tx) => saveTaskSettings(tx, { platformId: actor.platformId, courseId: courseOf(actor), userId: actor.userId }, task.id, input));
  } catch (err) {
    // The form again with what was typed and a message beside each field; nothing saved.
    if (err instanceof HttpError && err.status === 422) return page(deps, req, res, task, { values: { ...settingsFormValues(task), ...typed, ...('dueAt' in typed ? { dueAtIso: '' } : {}) }, fields: err.fields ?? {}, message: err.message, saved: false }, 422);
    throw err;
  }
  if (req.get('HX-Request') !== 'true') return res.redirect(303, linkWith(actor.ltik)(`/instructor/tasks/${task.id}/settings`));
  await page(deps, req, res, saved, { values: settingsFormValues(saved), fields: {}, message: 'Saved.', saved: true });
}
