import type { Request, Response } from 'express';
import { charCount } from '../chars.js';
import { HttpError } from '../errors.js';
import { render } from '../http/render.js';
import { validateDraft } from '../models/prompts/prompt-draft.js';
import { promptProviders, providerForModel } from './prompts.page.js';
import { buildPreview } from '../models/prompts/preview.service.js';
import { countCourseStudents, observedOutputTokens } from '../models/prompts/prompts.repository.js';
import { MAX_SAMPLES, runChargedSampleTests, sampleTestBudget } from '../models/prompts/sample-test.service.js';
import type { PromptEditor } from './prompts.editor.js';
import { presentPreview, presentTestBudget, presentTestRun } from './prompts.present.js';
import { benchValuesFromForm, draftInputOf, editorValuesFromForm, samplesOf, studentsOf } from './prompts.schema.js';

/*
 * The bench beside the prompt editor: a preview (the request one sample would make, its cost for the course) and
 * tests on samples. Both answer into the bench, which keeps the samples typed into it; refusals are shown there.
 */

function refuseOnBench(req: Request, res: Response, kind: 'preview' | 'test', taskId: number, fields: Record<string, string> | undefined, status = 422): void {
  render(req, res, 'pages/instructor/prompt-bench', { fields, kind, taskId }, { status, fragment: 'partials/prompts/_bench-invalid' });
}

export async function previewPrompt(editor: PromptEditor, req: Request, res: Response): Promise<void> {
  const { deps } = editor;
  const { actor, task } = await editor.context(req, res);
  const values = editorValuesFromForm(req.body);
  const bench = benchValuesFromForm(req.body);
  const checked = validateDraft(draftInputOf(values), { providers: await promptProviders(deps, actor, task) });
  if (!checked.ok) return refuseOnBench(req, res, 'preview', task.id, checked.fields);
  const sampleIndex = bench.samples.findIndex((s) => s.trim());
  const sample = sampleIndex >= 0 ? bench.samples[sampleIndex]! : null;
  if (sample && charCount(sample) > deps.submissionMaxChars) {
    const fields = { [`samples.${sampleIndex}`]: `Sample ${sampleIndex + 1} has ${charCount(sample).toLocaleString('en')} characters; submissions are limited to ${deps.submissionMaxChars.toLocaleString('en')}.` };
    return refuseOnBench(req, res, 'preview', task.id, fields);
  }
  const preview = buildPreview({
    content: checked.draft,
    task: { title: task.title, description: task.description, maxScore: task.maxScore },
    sample,
    students: studentsOf(bench, await countCourseStudents(deps.db, task.courseId)),
    observed: await observedOutputTokens(deps.db, task.id, checked.draft.model),
    provider: providerForModel(deps, checked.draft.model),
  });
  const samples = bench.samples.map((text, i) => ({ index: i + 1, text })).filter((s) => s.text.trim()).slice(0, MAX_SAMPLES);
  const testBudget = presentTestBudget(sampleTestBudget(checked.draft, task, samples, deps.sampleTests));
  render(req, res, 'pages/instructor/prompt-bench', { preview: presentPreview(preview), testBudget, kind: 'preview', taskId: task.id }, { fragment: 'partials/prompts/_preview' });
}

export async function testPrompt(editor: PromptEditor, req: Request, res: Response): Promise<void> {
  const { deps } = editor;
  const { actor, task } = await editor.context(req, res);
  const checked = validateDraft(draftInputOf(editorValuesFromForm(req.body)), { providers: await promptProviders(deps, actor, task) });
  const { samples, fields } = samplesOf(benchValuesFromForm(req.body), deps.submissionMaxChars);
  const all = { ...(checked.ok ? {} : checked.fields), ...fields };
  if (!checked.ok || Object.keys(all).length) return refuseOnBench(req, res, 'test', task.id, all);
  let run;
  try {
    const scope = { platformId: actor.platformId, courseId: task.courseId, taskId: task.id };
    run = await runChargedSampleTests(deps.db, scope, providerForModel(deps, checked.draft.model), { content: checked.draft, task, samples, limits: deps.sampleTests });
  } catch (err) {
    // Over the test's limits (characters, worst-case cost): the messages beside the samples, nothing sent. A
    // real-time call costs money: a budget frozen or spent (409) stops it the same way (issue 16).
    if (!(err instanceof HttpError && (err.status === 422 || err.status === 409))) throw err;
    return refuseOnBench(req, res, 'test', task.id, err.status === 409 ? { budget: err.message } : err.fields, err.status);
  }
  render(req, res, 'pages/instructor/prompt-bench', { run: presentTestRun(run, checked.draft.rubric, checked.draft.maxScore, samples), kind: 'test', taskId: task.id }, { fragment: 'partials/prompts/_test-results' });
}
