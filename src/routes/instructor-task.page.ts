import type { Db } from '../db/db.js';
import { NotFound } from '../errors.js';
import { courseOf, type Actor } from '../lti/actor.js';
import { findActiveVersion, type PromptVersionRow } from '../models/prompts/prompts.repository.js';
import { findTaskInCourse, type TaskRow } from '../models/tasks/tasks.repository.js';
import { idParam } from './params.js';
import { formatDateTime, formatScore, taskBasics } from './present.js';

/** Shared by the instructor's task view and its settings page: the task of the URL and its facts, worded. */

export async function courseTask(db: Db, actor: Actor, param: unknown): Promise<TaskRow> {
  const task = await findTaskInCourse(db, courseOf(actor), idParam(param, 'The task'));
  if (!task) throw NotFound('The task');
  return task;
}

export async function activeVersionOfTask(db: Db, taskId: number): Promise<PromptVersionRow | null> {
  return (await findActiveVersion(db, taskId)) ?? null;
}

export function releaseLabel(task: Pick<TaskRow, 'releasePolicy' | 'autoReleaseMinConfidence'>): string {
  if (task.releasePolicy === 'after_approval') return 'after your approval';
  return task.autoReleaseMinConfidence == null
    ? 'at once when the result passes validation unflagged'
    : `at once when the result passes validation unflagged with confidence of at least ${Math.round(task.autoReleaseMinConfidence * 100)}%`;
}

export function taskFacts(task: TaskRow, version: PromptVersionRow | null) {
  const rubricTotal = version ? version.rubric.reduce((t, c) => t + c.maxPoints, 0) : null;
  return {
    ...taskBasics(task),
    releaseLabel: releaseLabel(task),
    attemptsLabel: task.maxAttempts === 1 ? '1' : `${task.maxAttempts} (${task.attemptPolicy === 'best' ? 'the best counts' : 'the last counts'})`,
    due: task.dueAt ? `${formatDateTime(task.dueAt)}${task.latePolicy === 'refuse' ? ', no late work' : ', late work taken and marked'}` : null,
    dueIso: task.dueAt?.toISOString() ?? null,
    lineItemUrl: task.lineItemUrl,
    promptStatus: version ? `A grading prompt is active (version ${version.version}, ${version.model}).` : 'No grading prompt yet: students cannot be graded by the LLM until you write one.',
    // A prompt copied from another task may carry another rubric total: the gradebook would then get scaled scores.
    rubricMismatch:
      rubricTotal != null && Math.abs(rubricTotal - task.maxScore) > 0.005
        ? `The grading prompt's rubric totals ${formatScore(rubricTotal)} points, but this task is out of ${formatScore(task.maxScore)}: scores are scaled to ${formatScore(task.maxScore)} in the LMS gradebook. Change the rubric or the maximum so they agree.`
        : null,
  };
}
