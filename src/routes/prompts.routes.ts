import { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import { allow } from '../lti/actor.js';
import { Invalid, NotFound } from '../errors.js';
import { validateDraft } from '../models/prompts/prompt-draft.js';
import { archiveTaskPrompt, copyPrompt, removeCourseTemplate, rollbackPrompt, saveCourseTemplate, savePrompt } from '../models/prompts/prompts.service.js';
import { idParam, versionParam } from './params.js';
import { formText } from './form.js';
import { formatScore } from './present.js';
import { int4 } from '../validation.js';
import { initialValues, promptProviders, type PromptRouteDeps } from './prompts.page.js';
import { promptEditor, type PromptEditor } from './prompts.editor.js';
import { previewPrompt, testPrompt } from './prompts.bench.js';
import { showDiff, showVersion } from './prompts.history.js';
import { baseVersionOf, draftInputOf, editorActionFrom, editorValuesFrom, editorValuesFromForm, noteErrors } from './prompts.schema.js';
import { withDeps } from './handlers.js';

/** A person waits for a sample test: one quick retry, then the error is shown (a job would retry for longer). */
export const PROMPT_TEST_RETRY = { maxAttempts: 2, baseDelayMs: 500, maxDelayMs: 1_000 };

const BASE = '/instructor/tasks/:taskId/prompt';
const MAX_CRITERIA_ROWS = 30;

const editorQuery = z.object({
  template: z.string().max(40).optional(),
  from: int4().pipe(z.number().positive()).optional(),
});

/**
 * The prompt editor of a task (instructors of its course): save as a new version, history, diff, rollback, copy,
 * archive, the template library, preview and tests on samples. Every state change answers with the page's main
 * fragment (#prompts-page), so one template serves the page and each htmx swap; preview and test results go to
 * the bench beside it (prompts.bench.ts), which keeps the samples typed into it.
 */
export function promptRoutes(deps: PromptRouteDeps): Router {
  const editor = promptEditor(deps);
  const on = withDeps(editor);
  const router = Router();
  router.use(BASE, allow('instructor'));
  router.get(BASE, on(openEditor));
  router.post(BASE, on(saveVersion));
  router.post(`${BASE}/rubric`, on(editRubricRows));
  router.post(`${BASE}/preview`, on(previewPrompt));
  router.post(`${BASE}/test`, deps.sampleTestLimit, on(testPrompt));
  router.get(`${BASE}/versions/:version`, on(showVersion));
  router.get(`${BASE}/diff`, on(showDiff));
  router.post(`${BASE}/rollback`, on(rollback));
  router.post(`${BASE}/copy`, on(copyToTask));
  router.post(`${BASE}/archive`, on(archive));
  router.post(`${BASE}/templates`, on(saveTemplate));
  router.post(`${BASE}/templates/:templateId/delete`, on(deleteTemplate));
  return router;
}

async function openEditor(editor: PromptEditor, req: Request, res: Response): Promise<void> {
  const { actor, task } = await editor.context(req, res);
  const query = editorQuery.safeParse(req.query);
  if (!query.success) throw NotFound('The template or version');
  await editor.show(req, res, actor, task, await initialValues(editor.deps.db, actor, task, query.data));
}

async function saveVersion(editor: PromptEditor, req: Request, res: Response): Promise<void> {
  const { actor, task } = await editor.context(req, res);
  const values = editorValuesFromForm(req.body);
  await editor.change(req, res, actor, task, { values }, async () => {
    const checked = validateDraft(draftInputOf(values), { providers: await promptProviders(editor.deps, actor, task) });
    const fields = { ...noteErrors(values), ...(checked.ok ? {} : checked.fields) };
    if (!checked.ok || Object.keys(fields).length) throw Invalid(fields, 'Nothing was saved: please correct the fields marked below.');
    const outcome = await editor.deps.db.transaction((tx) => savePrompt(tx, actor, task, checked.draft, { note: values.note, baseVersion: baseVersionOf(values) }));
    const v = outcome.version;
    return {
      values: editorValuesFrom(v, { baseVersion: v.version }),
      message: outcome.created
        ? { kind: 'success', text: `Saved as version ${v.version}. New submissions are graded with it.` }
        : { kind: 'info', text: `No changes: version ${v.version} is still the active version.` },
    };
  });
}

/** Adds or removes a rubric row in the editor; nothing is saved. */
async function editRubricRows(editor: PromptEditor, req: Request, res: Response): Promise<void> {
  const { actor, task } = await editor.context(req, res);
  const values = editorValuesFromForm(req.body);
  const action = editorActionFrom(req.body);
  if (action.kind === 'add-criterion') {
    if (values.rubric.length >= MAX_CRITERIA_ROWS) {
      return editor.show(req, res, actor, task, { values, fields: { rubric: `A rubric can have at most ${MAX_CRITERIA_ROWS} criteria.` } }, 422);
    }
    values.rubric.push({ id: '', name: '', description: '', maxPoints: '' });
  } else if (action.kind === 'remove-criterion') {
    values.rubric.splice(action.index, 1);
  }
  await editor.show(req, res, actor, task, { values });
}

async function rollback(editor: PromptEditor, req: Request, res: Response): Promise<void> {
  const { actor, task } = await editor.context(req, res);
  const number = versionParam(formText(req.body, 'version'));
  const outcome = await editor.deps.db.transaction((tx) => rollbackPrompt(tx, actor, task, number));
  const v = outcome.version;
  await editor.show(req, res, actor, task, {
    values: editorValuesFrom(v, { baseVersion: v.version }),
    message: outcome.created
      ? { kind: 'success', text: `Rolled back: version ${v.version} is a copy of version ${number} and is now active.` }
      : { kind: 'info', text: `Version ${v.version} already says what version ${number} says: nothing changed.` },
  });
}

async function copyToTask(editor: PromptEditor, req: Request, res: Response): Promise<void> {
  const { actor, task } = await editor.context(req, res);
  const target = Number(formText(req.body, 'targetTaskId'));
  const { values } = await initialValues(editor.deps.db, actor, task, {});
  await editor.change(req, res, actor, task, { values }, async () => {
    if (!Number.isSafeInteger(target) || target <= 0) throw Invalid({ targetTaskId: 'Choose the task to copy the prompt to.' });
    const outcome = await editor.deps.db.transaction((tx) => copyPrompt(tx, actor, task, target));
    const where = `${outcome.target.courseTitle} — ${outcome.target.taskTitle}`;
    // A rubric copied to a task with another maximum would have its scores scaled in that task's gradebook.
    const total = outcome.version.rubric.reduce((t, c) => t + c.maxPoints, 0);
    const mismatch = Math.abs(total - outcome.target.taskMaxScore) > 0.005
      ? ` Its rubric totals ${formatScore(total)} points, but that task is out of ${formatScore(outcome.target.taskMaxScore)}: scores would be scaled in its gradebook. Change the rubric there, or the task's maximum, so they agree.`
      : '';
    return {
      values,
      message: outcome.created
        ? { kind: mismatch ? 'info' : 'success', text: `Copied to "${where}" as its version ${outcome.version.version}.${mismatch}` }
        : { kind: 'info', text: `"${where}" already has this prompt (version ${outcome.version.version}): nothing changed.` },
    };
  });
}

async function archive(editor: PromptEditor, req: Request, res: Response): Promise<void> {
  const { actor, task } = await editor.context(req, res);
  await editor.deps.db.transaction((tx) => archiveTaskPrompt(tx, actor, task));
  const { values } = await initialValues(editor.deps.db, actor, task, {});
  await editor.show(req, res, actor, task, {
    values,
    message: { kind: 'success', text: 'The prompt is archived: new submissions of this task are not graded until you save a version again. Every version is kept.' },
  });
}

async function saveTemplate(editor: PromptEditor, req: Request, res: Response): Promise<void> {
  const { actor, task } = await editor.context(req, res);
  const values = editorValuesFromForm(req.body);
  const templateForm = { name: formText(req.body, 'templateName'), description: formText(req.body, 'templateDescription') };
  await editor.change(req, res, actor, task, { values, templateForm }, async () => {
    const checked = validateDraft(draftInputOf(values));
    if (!checked.ok) throw Invalid(checked.fields, 'The template was not saved: please correct the fields marked below.');
    const input = { ...templateForm, replace: formText(req.body, 'templateReplace') === 'on' };
    const { template, replaced } = await editor.deps.db.transaction((tx) => saveCourseTemplate(tx, actor, task, checked.draft, input));
    return { values, message: { kind: 'success', text: `${replaced ? 'Replaced' : 'Saved'} the course template "${template.name}".` } };
  });
}

async function deleteTemplate(editor: PromptEditor, req: Request, res: Response): Promise<void> {
  const { actor, task } = await editor.context(req, res);
  const removed = await editor.deps.db.transaction((tx) => removeCourseTemplate(tx, actor, idParam(req.params.templateId, 'The template')));
  const values = editorValuesFromForm(req.body);
  const state = values.template ? { values } : await initialValues(editor.deps.db, actor, task, {});
  await editor.show(req, res, actor, task, { values: state.values, message: { kind: 'success', text: `Deleted the course template "${removed.name}".` } });
}
