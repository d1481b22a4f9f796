import { Router, type Request, type Response } from 'express';
import { charCount } from '../chars.js';
import { z } from 'zod';
import { actorOf, allow } from '../lti/actor.js';
import { HttpError, Invalid, NotFound } from '../errors.js';
import { render } from '../http/render.js';
import { validateDraft } from '../models/prompts/prompt-draft.js';
import { buildPreview } from '../models/prompts/preview.service.js';
import { countCourseStudents, findPromptForTask, findVersionWithAuthor, observedOutputTokens } from '../models/prompts/prompts.repository.js';
import { diffVersions } from '../models/prompts/diff.js';
import {
  archiveTaskPrompt,
  copyPrompt,
  removeCourseTemplate,
  rollbackPrompt,
  saveCourseTemplate,
  savePrompt,
  type PromptActor,
} from '../models/prompts/prompts.service.js';
import { MAX_SAMPLES, runSampleTests, sampleTestBudget } from '../models/prompts/sample-test.service.js';
import type { TaskRow } from '../models/tasks/tasks.repository.js';
import { idParam, versionParam } from './params.js';
import { formText } from './form.js';
import { int4 } from '../validation.js';
import { initialValues, pageModel, promptActorOf, taskOf, type PageState, type PromptRouteDeps } from './prompts.page.js';
import { presentPreview, presentTestBudget, presentTestRun, presentVersion } from './prompts.present.js';
import {
  baseVersionOf,
  benchValuesFromForm,
  draftInputOf,
  editorActionFrom,
  editorValuesFrom,
  editorValuesFromForm,
  noteErrors,
  samplesOf,
  studentsOf,
} from './prompts.schema.js';

/** A person waits for a sample test: one quick retry, then the error is shown (a job would retry for longer). */
export const PROMPT_TEST_RETRY = { maxAttempts: 2, baseDelayMs: 500, maxDelayMs: 1_000 };

const BASE = '/instructor/tasks/:taskId/prompt';
const MAX_CRITERIA_ROWS = 30;

const editorQuery = z.object({
  template: z.string().max(40).optional(),
  from: int4().pipe(z.number().positive()).optional(),
});
const diffQuery = z.object({ from: int4().pipe(z.number().positive()), to: int4().pipe(z.number().positive()) });

/**
 * The prompt editor of a task (instructors of its course): save as a new version, history, diff, rollback, copy,
 * archive, the template library, preview and tests on samples. Every state change answers with the page's main
 * fragment (#prompts-page), so one template serves the page and each htmx swap; preview and test results go to
 * the bench beside it, which keeps the samples typed into it.
 */
export function promptRoutes(deps: PromptRouteDeps): Router {
  const { db } = deps;
  const router = Router();
  router.use('/instructor/tasks/:taskId/prompt', allow('instructor'));

  async function context(req: Request, res: Response): Promise<{ actor: PromptActor; task: TaskRow }> {
    const actor = actorOf(res);
    const task = await taskOf(db, actor, idParam(req.params.taskId, 'The task'));
    return { actor: promptActorOf(actor), task };
  }

  async function showPage(req: Request, res: Response, actor: PromptActor, task: TaskRow, state: PageState, status = 200): Promise<void> {
    const model = await pageModel(db, actor, task, state, { students: await countCourseStudents(db, task.courseId) });
    render(req, res, 'pages/instructor/prompt', model, { status, fragment: 'partials/prompts/_page' });
  }

  /** Runs a change; a 422 or 409 re-renders the page with the messages and the typed values, nothing saved. */
  async function change(req: Request, res: Response, actor: PromptActor, task: TaskRow, keep: PageState, fn: () => Promise<PageState>): Promise<void> {
    try {
      await showPage(req, res, actor, task, await fn());
    } catch (err) {
      if (err instanceof HttpError && (err.status === 422 || err.status === 409)) {
        return showPage(req, res, actor, task, { ...keep, fields: err.fields, message: { kind: 'error', text: err.message } }, err.status);
      }
      throw err;
    }
  }

  router.get(BASE, async (req, res) => {
    const { actor, task } = await context(req, res);
    const query = editorQuery.safeParse(req.query);
    if (!query.success) throw NotFound('The template or version');
    await showPage(req, res, actor, task, await initialValues(db, actor, task, query.data));
  });

  router.post(BASE, async (req, res) => {
    const { actor, task } = await context(req, res);
    const values = editorValuesFromForm(req.body);
    await change(req, res, actor, task, { values }, async () => {
      const checked = validateDraft(draftInputOf(values));
      const fields = { ...noteErrors(values), ...(checked.ok ? {} : checked.fields) };
      if (!checked.ok || Object.keys(fields).length) throw Invalid(fields, 'Nothing was saved: please correct the fields marked below.');
      const outcome = await db.transaction((tx) => savePrompt(tx, actor, task, checked.draft, { note: values.note, baseVersion: baseVersionOf(values) }));
      const v = outcome.version;
      return {
        values: editorValuesFrom(v, { baseVersion: v.version }),
        message: outcome.created
          ? { kind: 'success', text: `Saved as version ${v.version}. New submissions are graded with it.` }
          : { kind: 'info', text: `No changes: version ${v.version} is still the active version.` },
      };
    });
  });

  router.post(`${BASE}/rubric`, async (req, res) => {
    const { actor, task } = await context(req, res);
    const values = editorValuesFromForm(req.body);
    const action = editorActionFrom(req.body);
    if (action.kind === 'add-criterion') {
      if (values.rubric.length >= MAX_CRITERIA_ROWS) {
        return showPage(req, res, actor, task, { values, fields: { rubric: `A rubric can have at most ${MAX_CRITERIA_ROWS} criteria.` } }, 422);
      }
      values.rubric.push({ id: '', name: '', description: '', maxPoints: '' });
    } else if (action.kind === 'remove-criterion') {
      values.rubric.splice(action.index, 1);
    }
    await showPage(req, res, actor, task, { values });
  });

  router.post(`${BASE}/preview`, async (req, res) => {
    const { task } = await context(req, res);
    const values = editorValuesFromForm(req.body);
    const bench = benchValuesFromForm(req.body);
    const checked = validateDraft(draftInputOf(values));
    if (!checked.ok) return render(req, res, 'pages/instructor/prompt-bench', { fields: checked.fields, kind: 'preview', taskId: task.id }, { status: 422, fragment: 'partials/prompts/_bench-invalid' });
    const sampleIndex = bench.samples.findIndex((s) => s.trim());
    const sample = sampleIndex >= 0 ? bench.samples[sampleIndex]! : null;
    if (sample && charCount(sample) > deps.submissionMaxChars) {
      const fields = { [`samples.${sampleIndex}`]: `Sample ${sampleIndex + 1} has ${charCount(sample).toLocaleString('en')} characters; submissions are limited to ${deps.submissionMaxChars.toLocaleString('en')}.` };
      return render(req, res, 'pages/instructor/prompt-bench', { fields, kind: 'preview', taskId: task.id }, { status: 422, fragment: 'partials/prompts/_bench-invalid' });
    }
    const preview = buildPreview({
      content: checked.draft,
      task: { title: task.title, description: task.description, maxScore: task.maxScore },
      sample,
      students: studentsOf(bench, await countCourseStudents(db, task.courseId)),
      observed: await observedOutputTokens(db, task.id, checked.draft.model),
      provider: deps.provider,
    });
    const samples = bench.samples.map((text, i) => ({ index: i + 1, text })).filter((s) => s.text.trim()).slice(0, MAX_SAMPLES);
    const testBudget = presentTestBudget(sampleTestBudget(checked.draft, task, samples, deps.sampleTests));
    render(req, res, 'pages/instructor/prompt-bench', { preview: presentPreview(preview), testBudget, kind: 'preview', taskId: task.id }, { fragment: 'partials/prompts/_preview' });
  });

  router.post(`${BASE}/test`, deps.sampleTestLimit, async (req, res) => {
    const { task } = await context(req, res);
    const values = editorValuesFromForm(req.body);
    const checked = validateDraft(draftInputOf(values));
    const { samples, fields } = samplesOf(benchValuesFromForm(req.body), deps.submissionMaxChars);
    const all = { ...(checked.ok ? {} : checked.fields), ...fields };
    if (!checked.ok || Object.keys(all).length) {
      return render(req, res, 'pages/instructor/prompt-bench', { fields: all, kind: 'test', taskId: task.id }, { status: 422, fragment: 'partials/prompts/_bench-invalid' });
    }
    let run;
    try {
      run = await runSampleTests(deps.provider, checked.draft, task, samples, deps.sampleTests);
    } catch (err) {
      // Over the test's limits (characters, worst-case cost): the messages beside the samples, nothing sent.
      if (!(err instanceof HttpError && err.status === 422)) throw err;
      return render(req, res, 'pages/instructor/prompt-bench', { fields: err.fields, kind: 'test', taskId: task.id }, { status: 422, fragment: 'partials/prompts/_bench-invalid' });
    }
    render(req, res, 'pages/instructor/prompt-bench', { run: presentTestRun(run, checked.draft.rubric, checked.draft.maxScore, samples), kind: 'test', taskId: task.id }, { fragment: 'partials/prompts/_test-results' });
  });

  router.get(`${BASE}/versions/:version`, async (req, res) => {
    const { task } = await context(req, res);
    const number = versionParam(req.params.version);
    const prompt = await findPromptForTask(db, task.id);
    const version = prompt ? await findVersionWithAuthor(db, prompt.id, number) : undefined;
    if (!prompt || !version) throw NotFound(`Version ${number} of this prompt`);
    render(req, res, 'pages/instructor/prompt-version', {
      title: `Version ${number} · ${task.title}`,
      task: { id: task.id, title: task.title },
      version: presentVersion(version, prompt.status === 'active' ? prompt.activeVersionId : null),
    });
  });

  router.get(`${BASE}/diff`, async (req, res) => {
    const { task } = await context(req, res);
    const query = diffQuery.safeParse(req.query);
    if (!query.success) throw NotFound('The versions to compare');
    const prompt = await findPromptForTask(db, task.id);
    const [a, b] = prompt ? await Promise.all([findVersionWithAuthor(db, prompt.id, query.data.from), findVersionWithAuthor(db, prompt.id, query.data.to)]) : [];
    if (!a) throw NotFound(`Version ${query.data.from} of this prompt`);
    if (!b) throw NotFound(`Version ${query.data.to} of this prompt`);
    render(
      req,
      res,
      'pages/instructor/prompt-diff',
      { title: `Versions ${a.version} and ${b.version} · ${task.title}`, task: { id: task.id, title: task.title }, diff: diffVersions(a, b) },
      { fragment: 'partials/prompts/_diff' },
    );
  });

  router.post(`${BASE}/rollback`, async (req, res) => {
    const { actor, task } = await context(req, res);
    const number = versionParam(formText(req.body, 'version'));
    const outcome = await db.transaction((tx) => rollbackPrompt(tx, actor, task, number));
    const v = outcome.version;
    await showPage(req, res, actor, task, {
      values: editorValuesFrom(v, { baseVersion: v.version }),
      message: outcome.created
        ? { kind: 'success', text: `Rolled back: version ${v.version} is a copy of version ${number} and is now active.` }
        : { kind: 'info', text: `Version ${v.version} already says what version ${number} says: nothing changed.` },
    });
  });

  router.post(`${BASE}/copy`, async (req, res) => {
    const { actor, task } = await context(req, res);
    const target = Number(formText(req.body, 'targetTaskId'));
    const { values } = await initialValues(db, actor, task, {});
    await change(req, res, actor, task, { values }, async () => {
      if (!Number.isSafeInteger(target) || target <= 0) throw Invalid({ targetTaskId: 'Choose the task to copy the prompt to.' });
      const outcome = await db.transaction((tx) => copyPrompt(tx, actor, task, target));
      const where = `${outcome.target.courseTitle} — ${outcome.target.taskTitle}`;
      return {
        values,
        message: outcome.created
          ? { kind: 'success', text: `Copied to "${where}" as its version ${outcome.version.version}.` }
          : { kind: 'info', text: `"${where}" already has this prompt (version ${outcome.version.version}): nothing changed.` },
      };
    });
  });

  router.post(`${BASE}/archive`, async (req, res) => {
    const { actor, task } = await context(req, res);
    await db.transaction((tx) => archiveTaskPrompt(tx, actor, task));
    const { values } = await initialValues(db, actor, task, {});
    await showPage(req, res, actor, task, {
      values,
      message: { kind: 'success', text: 'The prompt is archived: new submissions of this task are not graded until you save a version again. Every version is kept.' },
    });
  });

  router.post(`${BASE}/templates`, async (req, res) => {
    const { actor, task } = await context(req, res);
    const values = editorValuesFromForm(req.body);
    const templateForm = { name: formText(req.body, 'templateName'), description: formText(req.body, 'templateDescription') };
    await change(req, res, actor, task, { values, templateForm }, async () => {
      const checked = validateDraft(draftInputOf(values));
      if (!checked.ok) throw Invalid(checked.fields, 'The template was not saved: please correct the fields marked below.');
      const input = { ...templateForm, replace: formText(req.body, 'templateReplace') === 'on' };
      const { template, replaced } = await db.transaction((tx) => saveCourseTemplate(tx, actor, task, checked.draft, input));
      return { values, message: { kind: 'success', text: `${replaced ? 'Replaced' : 'Saved'} the course template "${template.name}".` } };
    });
  });

  router.post(`${BASE}/templates/:templateId/delete`, async (req, res) => {
    const { actor, task } = await context(req, res);
    const removed = await db.transaction((tx) => removeCourseTemplate(tx, actor, idParam(req.params.templateId, 'The template')));
    const values = editorValuesFromForm(req.body);
    const state = values.template ? { values } : await initialValues(db, actor, task, {});
    await showPage(req, res, actor, task, { values: state.values, message: { kind: 'success', text: `Deleted the course template "${removed.name}".` } });
  });

  return router;
}
