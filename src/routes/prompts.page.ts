import type { RequestHandler } from 'express';
import type { Db, RootDb } from '../db/db.js';
import type { Actor } from '../lti/actor.js';
import { Conflict, NotFound } from '../errors.js';
import { findLibraryTemplate, listLibrary, starterTemplateFor } from '../models/prompts/library.js';
import type { PromptActor } from '../models/prompts/prompts.service.js';
import {
  findPromptForTask,
  findVersion,
  findVersionById,
  listCopyTargets,
  listVersionsWithAuthors,
  type PromptRow,
  type PromptVersionRow,
} from '../models/prompts/prompts.repository.js';
import { MAX_SAMPLES, type SampleTestLimits } from '../models/prompts/sample-test.service.js';
import { findTaskInCourse, type TaskRow } from '../models/tasks/tasks.repository.js';
import { courseOf } from '../lti/actor.js';
import { editorValuesFrom, type EditorValues } from './prompts.schema.js';
import { modelOptions, presentHistory, presentLibrary, VARIABLES } from './prompts.present.js';
import { formatScore, taskTypeLabel } from './present.js';
import { providerOfModel, type BatchProvider, type Providers } from '../providers/index.js';
import { usableProviders } from '../models/privacy/privacy.service.js';

/** What the prompt editor (prompts.routes.ts) and its JSON API (prompts.api.ts) are made with. */
export interface PromptRouteDeps {
  db: RootDb;
  /** The configured providers: a prompt's preview and tests go to its model's. */
  providers: Providers;
  /** The longest sample submission a preview or test accepts (as long as a real submission may be). */
  submissionMaxChars: number;
  /** What one sample test may take: characters per sample and worst-case cost (refused with 422 beyond). */
  sampleTests: SampleTestLimits;
  /** Sample tests per person and per course (src/http/rate-limit.ts), shared by the editor and the API. */
  sampleTestLimit: RequestHandler;
}

/** The prompt editor page's model: the editor's values, the history, the library and what the instructor can do. */

export interface PageMessage {
  kind: 'success' | 'info' | 'error';
  text: string;
}

export interface PageState {
  values: EditorValues;
  fields?: Record<string, string>;
  message?: PageMessage;
  /** Values typed into the "save as template" form, kept on a refusal. */
  templateForm?: { name: string; description: string };
}

export function promptActorOf(actor: Actor): PromptActor {
  return { platformId: actor.platformId, courseId: courseOf(actor), userId: actor.userId };
}

/** The actor's task: one of their course's active tasks, else "not found" (never "forbidden": ids leak nothing). */
export async function taskOf(db: Db, actor: Actor, rawTaskId: number): Promise<TaskRow> {
  const task = await findTaskInCourse(db, courseOf(actor), rawTaskId);
  if (!task || task.status !== 'active') throw NotFound('The task');
  return task;
}

export async function activeVersionOf(db: Db, prompt: PromptRow | undefined): Promise<PromptVersionRow | undefined> {
  if (!prompt || prompt.status !== 'active' || prompt.activeVersionId === null) return undefined;
  return findVersionById(db, prompt.activeVersionId);
}

/**
 * What the editor shows when it opens: a library template the instructor chose, an older version they want to
 * start from, the active version, or (a task without a prompt) the built-in template for the task's type.
 */
export async function initialValues(db: Db, actor: PromptActor, task: TaskRow, query: { template?: string; from?: number }): Promise<{ values: EditorValues; message?: PageMessage }> {
  const prompt = await findPromptForTask(db, task.id);
  const active = await activeVersionOf(db, prompt);
  const base = active?.version ?? null;
  if (query.template) {
    const t = await findLibraryTemplate(db, actor, query.template);
    if (!t) throw NotFound('The template');
    return {
      values: editorValuesFrom(t.content, { customMaxScore: t.customMaxScore, note: `From template "${t.name}"`, baseVersion: base }),
      message: { kind: 'info', text: `Template "${t.name}" is in the editor. Nothing is saved until you save.` },
    };
  }
  if (query.from !== undefined) {
    const old = prompt ? await findVersion(db, prompt.id, query.from) : undefined;
    if (!old) throw NotFound(`Version ${query.from} of this prompt`);
    return {
      values: editorValuesFrom(old, { note: `Edited from version ${old.version}`, baseVersion: base }),
      message: { kind: 'info', text: `Version ${old.version} is in the editor. Saving makes it a new version.` },
    };
  }
  if (active) return { values: editorValuesFrom(active, { baseVersion: active.version }) };
  const latest = prompt ? (await listVersionsWithAuthors(db, prompt.id))[0] : undefined;
  if (latest) {
    return {
      values: editorValuesFrom(latest, { baseVersion: null }),
      message: { kind: 'info', text: `This prompt is archived. The editor shows version ${latest.version}; saving makes it active again as a new version.` },
    };
  }
  const starter = starterTemplateFor(task.taskType);
  return {
    values: editorValuesFrom(starter.content, { customMaxScore: starter.customMaxScore, note: 'First version', baseVersion: null }),
    message: { kind: 'info', text: `No prompt yet: the editor starts from the built-in "${starter.name}" template. Nothing is saved until you save.` },
  };
}

/** The providers a task's prompt may use: its course's approved ones, allowed by the institution and configured here. */
export function promptProviders(deps: Pick<PromptRouteDeps, 'db' | 'providers'>, actor: { platformId: number }, task: Pick<TaskRow, 'courseId'>): Promise<string[]> {
  return usableProviders(deps.db, { platformId: actor.platformId, courseId: task.courseId }, deps.providers.names);
}

/** The provider a prompt's model is served by, or 409 when this installation has none configured for it. */
export function providerForModel(deps: Pick<PromptRouteDeps, 'providers'>, model: string): BatchProvider {
  const name = providerOfModel(model) ?? 'openai';
  if (!deps.providers.has(name)) throw Conflict(`${model} is served by ${name}, which is not configured in this installation: nothing was sent.`);
  return deps.providers.get(name);
}

export async function pageModel(db: Db, actor: PromptActor, task: TaskRow, state: PageState, options: { students: number; providers: readonly string[] }) {
  const prompt = await findPromptForTask(db, task.id);
  const versions = prompt ? await listVersionsWithAuthors(db, prompt.id) : [];
  const activeVersionId = prompt?.status === 'active' ? prompt.activeVersionId : null;
  const active = versions.find((v) => v.id === activeVersionId);
  const library = presentLibrary(await listLibrary(db, actor), task.taskType);
  const copyTargets = (await listCopyTargets(db, actor)).filter((t) => t.taskId !== task.id);
  const values = state.values;
  return {
    title: `Grading prompt · ${task.title}`,
    task: { id: task.id, title: task.title, description: task.description, typeLabel: taskTypeLabel(task.taskType), maxScore: formatScore(task.maxScore) },
    values,
    fields: state.fields ?? {},
    message: state.message ?? null,
    templateForm: state.templateForm ?? { name: '', description: '' },
    status: !prompt || versions.length === 0 ? 'none' : prompt.status === 'archived' ? 'archived' : 'active',
    activeVersion: active?.version ?? null,
    history: presentHistory(versions, activeVersionId),
    diffDefaults: { from: versions[1]?.version ?? versions[0]?.version ?? null, to: versions[0]?.version ?? null },
    library,
    copyTargets: copyTargets.map((t) => ({ value: t.taskId, label: `${t.courseTitle} — ${t.taskTitle}` })),
    models: modelOptions(options.providers),
    variables: VARIABLES,
    maxSamples: MAX_SAMPLES,
    students: options.students,
  };
}
