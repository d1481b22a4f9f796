import type { Db } from '../../db/db.js';
import { recordAudit } from '../audit/audit.repository.js';
import { findOrCreateTaskForLink, type TaskRow } from '../tasks/tasks.repository.js';
import { TASK_TYPES, type TaskType } from '../tasks/tasks.table.js';
import { upsertCourse } from '../tenancy/people.repository.js';
import { starterTemplateFor } from './library.js';
import { appendVersion, findPromptForTask } from './prompts.repository.js';
import { gradingJsonSchema } from '../../grading/result.schema.js';
import { allowLlmUnlessSet } from '../privacy/privacy.repository.js';

/**
 * `npm run demo` only: makes the development LMS's course usable end to end on a fresh database. The course and
 * its assignment tasks are created as their first launch would create them (same keys, so a real launch finds
 * them), LLM assessment is allowed, and each task gets the built-in library template for its type as version 1.
 * Idempotent, and it never overrides a choice: a course whose settings were saved, or a task that has (or had)
 * a prompt, is left alone.
 */

export interface DemoCourse {
  platformId: number;
  deploymentId: string;
  course: { contextId: string; title: string; label: string };
  links: ReadonlyArray<{ id: string; title: string; description: string; taskType?: string; maxScore?: number }>;
}

/** The part of the dev LMS's seed (src/devlms/seed.ts SEED) the demo seed reads. */
export interface LmsSeedLike {
  course: { contextId: string; title: string; label: string };
  links: ReadonlyArray<{ id: string; placement: string; title: string; description: string; custom: Record<string, string>; lineItem: { scoreMaximum: number } | null }>;
}

/** The LMS's assignments (not its navigation links) as tasks to seed, with their type and gradebook maximum. */
export function demoCourseFrom(seed: LmsSeedLike, platformId: number, deploymentId: string): DemoCourse {
  return {
    platformId,
    deploymentId,
    course: seed.course,
    links: seed.links
      .filter((l) => l.placement === 'assignment')
      .map((l) => ({ id: l.id, title: l.title, description: l.description, taskType: l.custom.task_type, maxScore: l.lineItem?.scoreMaximum })),
  };
}

export async function seedDemoCourse(db: Db, demo: DemoCourse): Promise<{ courseId: number; tasks: TaskRow[]; promptsSeeded: number }> {
  const course = await upsertCourse(db, { platformId: demo.platformId, deploymentId: demo.deploymentId, ...demo.course });
  if (await allowLlmUnlessSet(db, course.id)) {
    await recordAudit(db, { platformId: demo.platformId, courseId: course.id, actorKind: 'system', action: 'course.privacy_updated', entityType: 'course', entityId: course.id, details: { demo: true, after: { llmAllowed: true } } });
  }
  const tasks: TaskRow[] = [];
  let promptsSeeded = 0;
  for (const link of demo.links) {
    const taskType: TaskType = (TASK_TYPES as readonly string[]).includes(link.taskType ?? '') ? (link.taskType as TaskType) : 'essay';
    const task = await findOrCreateTaskForLink(db, {
      courseId: course.id,
      resourceLinkId: link.id,
      title: link.title,
      description: link.description,
      taskType,
      ...(link.maxScore ? { maxScore: link.maxScore } : {}),
    });
    tasks.push(task);
    if (await findPromptForTask(db, task.id)) continue;
    const template = starterTemplateFor(task.taskType);
    const c = template.content;
    const version = await appendVersion(db, task.id, null, {
      template: c.template,
      systemInstructions: c.systemInstructions,
      graderInstructions: c.graderInstructions,
      provider: 'openai',
      model: c.model,
      temperature: c.temperature,
      maxOutputTokens: c.maxOutputTokens,
      rubric: c.rubric,
      maxScore: c.maxScore,
      outputSchema: gradingJsonSchema(c.rubric, c.maxScore),
      note: `Demo: the built-in "${template.name}" template`,
    });
    await recordAudit(db, {
      platformId: demo.platformId,
      courseId: course.id,
      actorKind: 'system',
      action: 'prompt.saved',
      entityType: 'prompt_version',
      entityId: version.id,
      details: { taskId: task.id, version: version.version, demo: true, template: template.key },
    });
    promptsSeeded++;
  }
  return { courseId: course.id, tasks, promptsSeeded };
}
