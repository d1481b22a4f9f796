import type { Db } from '../../db/db.js';
import { providerOfModel } from '../../providers/index.js';
import { gradingJsonSchema } from '../../grading/result.schema.js';
import { Conflict, Forbidden, HttpError, Invalid, NotFound } from '../../errors.js';
import { recordAudit } from '../audit/audit.repository.js';
import type { TaskRow } from '../tasks/tasks.repository.js';
import { LIMITS, rubricSum, sameContent, type PromptContent, type PromptDraft } from './prompt-draft.js';
import {
  appendVersion,
  archivePrompt,
  deleteCourseTemplate,
  findCourseTemplateByName,
  findPromptForTask,
  findVersion,
  findVersionById,
  insertTemplate,
  listCopyTargets,
  type CopyTarget,
  lockPromptForTask,
  replaceTemplate,
  unfinishedQueueUse,
  type PromptRow,
  type PromptTemplateRow,
  type PromptVersionRow,
} from './prompts.repository.js';

/**
 * The rules of prompt management: versions are only ever appended (a save, a rollback and a copy each make a new
 * one, and a save that changes nothing makes none), nothing a queue item or an assessment points at is deleted,
 * and every change is audited. Callers run these inside a transaction and have checked the task is the actor's.
 */

export interface PromptActor {
  platformId: number;
  courseId: number;
  userId: number;
}

export type SaveOutcome = { created: true; version: PromptVersionRow } | { created: false; version: PromptVersionRow };

/** A save on top of a version the author never saw: refused, so nobody overwrites a colleague's work unseen. */
export class StaleVersionError extends HttpError {
  constructor(readonly current: number | null, readonly base: number | null) {
    super(
      409,
      'stale_version',
      current === null
        ? `The prompt was archived while you were editing (you started from version ${base}). Your changes are not saved yet: save again to make them the active version.`
        : `Version ${current} was saved while you were editing version ${base ?? '(none)'}. Your changes are not saved yet: compare with version ${current} in the history, then save again to make yours the newest version.`,
    );
  }
}

async function activeOf(db: Db, prompt: PromptRow): Promise<PromptVersionRow | undefined> {
  if (prompt.status !== 'active' || prompt.activeVersionId === null) return undefined;
  return findVersionById(db, prompt.activeVersionId);
}

/** What a version is made from: a draft, or a saved version (rollback, copy) whose frozen schema is kept. */
type VersionSource = PromptContent & { outputSchema?: Record<string, unknown> };

function versionValues(content: VersionSource, note: string, restoredFromVersion: number | null = null) {
  return {
    template: content.template,
    systemInstructions: content.systemInstructions,
    graderInstructions: content.graderInstructions,
    // The model names its provider (one price file each): a version sends where its model is served.
    provider: providerOfModel(content.model) ?? 'openai',
    model: content.model,
    temperature: Number(content.temperature),
    maxOutputTokens: content.maxOutputTokens,
    rubric: content.rubric,
    maxScore: Number(content.maxScore),
    // Frozen with the version: the exact response_format this version sends, whatever the builder becomes. A
    // rollback or a copy sends what the old version sent, so it keeps that version's schema.
    outputSchema: content.outputSchema ?? gradingJsonSchema(content.rubric, Number(content.maxScore)),
    note: note.trim().slice(0, LIMITS.noteChars),
    restoredFromVersion,
  };
}

interface AppendOptions {
  note: string;
  /** The active version number the author started from (null: none); undefined skips the check (API without it). */
  baseVersion?: number | null;
  restoredFromVersion?: number | null;
  audit: { action: string; details?: Record<string, unknown> };
}

/**
 * Makes `content` the task's active prompt as a new version, unless it is what the active version already says.
 * The prompt row stays locked from the comparison to the append, so two saves at once never both "change nothing"
 * or both take the same number.
 */
async function appendIfChanged(db: Db, actor: PromptActor, task: Pick<TaskRow, 'id' | 'courseId'>, content: VersionSource, options: AppendOptions): Promise<SaveOutcome> {
  const prompt = await lockPromptForTask(db, task.id);
  const active = await activeOf(db, prompt);
  if (options.baseVersion !== undefined && (active?.version ?? null) !== options.baseVersion) {
    throw new StaleVersionError(active?.version ?? null, options.baseVersion);
  }
  if (active && sameContent(content, active)) return { created: false, version: active };
  const version = await appendVersion(db, task.id, actor.userId, versionValues(content, options.note, options.restoredFromVersion ?? null));
  await recordAudit(db, {
    platformId: actor.platformId,
    courseId: task.courseId,
    actorId: actor.userId,
    actorKind: 'user',
    action: options.audit.action,
    entityType: 'prompt_version',
    entityId: version.id,
    details: { taskId: task.id, promptId: prompt.id, version: version.version, previousVersion: active?.version ?? null, note: version.note, ...options.audit.details },
  });
  return { created: true, version };
}

/** An instructor's save from the editor or the API. */
export function savePrompt(db: Db, actor: PromptActor, task: TaskRow, draft: PromptDraft, options: { note: string; baseVersion?: number | null }): Promise<SaveOutcome> {
  return appendIfChanged(db, actor, task, draft, { note: options.note, baseVersion: options.baseVersion, audit: { action: 'prompt.saved' } });
}

/** Rollback: a new version equal to an old one ("Rolled back to version n"); the old one is not touched. */
export async function rollbackPrompt(db: Db, actor: PromptActor, task: TaskRow, versionNumber: number): Promise<SaveOutcome> {
  const prompt = await findPromptForTask(db, task.id);
  const old = prompt ? await findVersion(db, prompt.id, versionNumber) : undefined;
  if (!prompt || !old) throw NotFound(`Version ${versionNumber} of this prompt`);
  return appendIfChanged(db, actor, task, old, {
    note: `Rolled back to version ${versionNumber}`,
    restoredFromVersion: versionNumber,
    audit: { action: 'prompt.rolled_back', details: { restoredFromVersion: versionNumber } },
  });
}

export interface CopyOutcome extends Pick<SaveOutcome, 'created'> {
  version: PromptVersionRow;
  target: CopyTarget;
}

/**
 * Copies the task's active version (rubric included) to another task, as a new version there ("Copied from <task>
 * v<n>"). The target must be an active task of a course on the same platform where the actor is an instructor.
 */
export async function copyPrompt(db: Db, actor: PromptActor, source: TaskRow, targetTaskId: number): Promise<CopyOutcome> {
  const [target] = await listCopyTargets(db, actor, targetTaskId);
  if (!target) throw Forbidden('You can copy a prompt only to a task of a course you teach (as an instructor) in this LMS.');
  if (target.taskId === source.id) throw Invalid({ targetTaskId: 'Choose another task: this is the task the prompt belongs to.' });
  const prompt = await findPromptForTask(db, source.id);
  const active = prompt ? await activeOf(db, prompt) : undefined;
  if (!active) throw Conflict('This task has no active prompt to copy: save one first.');
  const outcome = await appendIfChanged(
    db,
    actor,
    { id: target.taskId, courseId: target.courseId },
    active,
    {
      note: `Copied from ${source.title} v${active.version}`,
      audit: { action: 'prompt.copied', details: { fromTaskId: source.id, fromCourseId: source.courseId, fromVersion: active.version } },
    },
  );
  return { ...outcome, target };
}

/**
 * Archives the task's prompt: no version is active, so new submissions cannot be graded with it, and every version
 * stays. Refused while queue items still wait to be graded with one of its versions.
 */
export async function archiveTaskPrompt(db: Db, actor: PromptActor, task: TaskRow): Promise<PromptRow> {
  const existing = await findPromptForTask(db, task.id);
  if (!existing) throw NotFound('The grading prompt of this task');
  const prompt = await lockPromptForTask(db, task.id);
  if (prompt.status === 'archived') return prompt;
  const inUse = await unfinishedQueueUse(db, prompt.id);
  if (inUse.items > 0) {
    const versions = inUse.versions.length === 1 ? `version ${inUse.versions[0]}` : `versions ${inUse.versions.join(', ')}`;
    throw Conflict(
      `${inUse.items} ${inUse.items === 1 ? 'submission is' : 'submissions are'} still waiting to be graded with this prompt (${versions}). ` +
        'Archive it once they are graded, or ask an administrator to skip them in the queue.',
    );
  }
  await archivePrompt(db, prompt.id);
  await recordAudit(db, {
    platformId: actor.platformId,
    courseId: task.courseId,
    actorId: actor.userId,
    actorKind: 'user',
    action: 'prompt.archived',
    entityType: 'prompt',
    entityId: prompt.id,
    details: { taskId: task.id, lastActiveVersionId: prompt.activeVersionId },
  });
  return { ...prompt, status: 'archived', activeVersionId: null };
}

export interface TemplateInput {
  name: string;
  description: string;
  /** Replace the course's template of the same name instead of refusing. */
  replace: boolean;
}

/** Saves the editor's prompt as a template of the instructor's course. */
export async function saveCourseTemplate(
  db: Db,
  actor: PromptActor,
  task: TaskRow,
  draft: PromptDraft,
  input: TemplateInput,
): Promise<{ template: PromptTemplateRow; replaced: boolean }> {
  const name = input.name.trim().replace(/\s+/g, ' ');
  const description = input.description.trim();
  const fields: Record<string, string> = {};
  if (!name) fields.templateName = 'Give the template a name.';
  else if (name.length > 120) fields.templateName = 'The name can be at most 120 characters.';
  if (description.length > 500) fields.templateDescription = 'The description can be at most 500 characters.';
  if (Object.keys(fields).length) throw Invalid(fields);
  const values = {
    platformId: actor.platformId,
    courseId: actor.courseId,
    name,
    description,
    taskType: task.taskType,
    template: draft.template,
    systemInstructions: draft.systemInstructions,
    graderInstructions: draft.graderInstructions,
    model: draft.model,
    temperature: draft.temperature,
    maxOutputTokens: draft.maxOutputTokens,
    rubric: draft.rubric,
    maxScore: draft.maxScore === rubricSum(draft.rubric) ? null : draft.maxScore,
    createdBy: actor.userId,
  };
  const existing = await findCourseTemplateByName(db, actor.courseId, name);
  if (existing && !input.replace) {
    throw Invalid({ templateName: `This course already has a template named "${name}". Choose another name, or tick "Replace it".` });
  }
  const template = existing ? await replaceTemplate(db, existing.id, values) : await insertTemplate(db, values);
  await recordAudit(db, {
    platformId: actor.platformId,
    courseId: actor.courseId,
    actorId: actor.userId,
    actorKind: 'user',
    action: existing ? 'prompt_template.replaced' : 'prompt_template.saved',
    entityType: 'prompt_template',
    entityId: template.id,
    details: { name, fromTaskId: task.id },
  });
  return { template, replaced: Boolean(existing) };
}

export async function removeCourseTemplate(db: Db, actor: PromptActor, templateId: number): Promise<PromptTemplateRow> {
  const removed = await deleteCourseTemplate(db, actor.courseId, templateId);
  if (!removed) throw NotFound('The template');
  await recordAudit(db, {
    platformId: actor.platformId,
    courseId: actor.courseId,
    actorId: actor.userId,
    actorKind: 'user',
    action: 'prompt_template.deleted',
    entityType: 'prompt_template',
    entityId: templateId,
    details: { name: removed.name },
  });
  return removed;
}
