import type { Request, Response } from 'express';
import { actorOf } from '../lti/actor.js';
import { HttpError } from '../errors.js';
import { render } from '../http/render.js';
import { countCourseStudents } from '../models/prompts/prompts.repository.js';
import type { PromptActor } from '../models/prompts/prompts.service.js';
import type { TaskRow } from '../models/tasks/tasks.repository.js';
import { idParam } from './params.js';
import { pageModel, promptActorOf, promptProviders, taskOf, type PageState, type PromptRouteDeps } from './prompts.page.js';

/** What every handler of the prompt editor works with: its dependencies and the page it answers with. */
export interface PromptEditor {
  deps: PromptRouteDeps;
  /** The instructor and the task of the request (a task of their course, else "not found"). */
  context(req: Request, res: Response): Promise<{ actor: PromptActor; task: TaskRow }>;
  /** The editor page, or its main fragment (#prompts-page) for htmx. */
  show(req: Request, res: Response, actor: PromptActor, task: TaskRow, state: PageState, status?: number): Promise<void>;
  /** Runs a change; a 422 or 409 re-renders the page with the messages and the typed values, nothing saved. */
  change(req: Request, res: Response, actor: PromptActor, task: TaskRow, keep: PageState, fn: () => Promise<PageState>): Promise<void>;
}

export function promptEditor(deps: PromptRouteDeps): PromptEditor {
  const { db } = deps;
  const editor: PromptEditor = {
    deps,
    async context(req, res) {
      const actor = actorOf(res);
      const task = await taskOf(db, actor, idParam(req.params.taskId, 'The task'));
      return { actor: promptActorOf(actor), task };
    },
    async show(req, res, actor, task, state, status = 200) {
      const model = await pageModel(db, actor, task, state, { students: await countCourseStudents(db, task.courseId), providers: await promptProviders(deps, actor, task) });
      render(req, res, 'pages/instructor/prompt', model, { status, fragment: 'partials/prompts/_page' });
    },
    async change(req, res, actor, task, keep, fn) {
      try {
        await editor.show(req, res, actor, task, await fn());
      } catch (err) {
        if (err instanceof HttpError && (err.status === 422 || err.status === 409)) {
          return editor.show(req, res, actor, task, { ...keep, fields: err.fields, message: { kind: 'error', text: err.message } }, err.status);
        }
        throw err;
      }
    },
  };
  return editor;
}
