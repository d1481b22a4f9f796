import type { Db } from '../../db/db.js';
import { Invalid, NotFound } from '../../errors.js';
import { recordAudit } from '../audit/audit.repository.js';
import { lockTaskInCourse, updateTaskSettings, type TaskRow, type TaskSettingsValues } from './tasks.repository.js';
import type { TaskSettingsInput } from './tasks.schema.js';

export interface TaskEditor {
  platformId: number;
  courseId: number;
  userId: number;
}

/**
 * Saves a task's settings. The maximum score of a task linked to an LMS gradebook column is the column's (the LMS
 * holds it; the tool reads it at launch), so it is not changed here. Changing attempts, release or dates applies to
 * what happens next: work already handed in and results already released stay as they are. Run in a transaction.
 */
export async function saveTaskSettings(db: Db, who: TaskEditor, taskId: number, input: TaskSettingsInput): Promise<TaskRow> {
  const task = await lockTaskInCourse(db, who.courseId, taskId);
  if (!task) throw NotFound('The task');
  const maxScore = input.maxScore ?? task.maxScore;
  if (task.lineItemUrl && Math.abs(maxScore - task.maxScore) > 0.005) {
    throw Invalid({ maxScore: `This task's maximum is its LMS gradebook column's (${task.maxScore}): change it in the LMS, and the tool takes it at the next launch.` });
  }
  const values: TaskSettingsValues = {
    title: input.title,
    description: input.description,
    criteria: input.criteria,
    maxScore,
    maxAttempts: input.maxAttempts,
    attemptPolicy: input.attemptPolicy,
    dueAt: input.dueAt,
    latePolicy: input.latePolicy,
    releasePolicy: input.releasePolicy,
    autoReleaseMinConfidence: input.releasePolicy === 'immediately' ? input.autoReleaseMinConfidence : null,
    waitingNote: input.waitingNote,
  };
  const changed = (Object.keys(values) as Array<keyof TaskSettingsValues>).filter((k) => String(values[k] instanceof Date ? (values[k] as Date).toISOString() : values[k]) !== String(task[k] instanceof Date ? (task[k] as Date).toISOString() : task[k]));
  const row = await updateTaskSettings(db, task.id, values);
  if (changed.length) {
    await recordAudit(db, { platformId: who.platformId, courseId: who.courseId, actorId: who.userId, actorKind: 'user', action: 'task.settings_changed', entityType: 'task', entityId: task.id, details: { changed } });
  }
  return row;
}

/**
 * The review threshold chosen on the Agreement page from the task's calibration: results at or above it are released
 * at once (unflagged ones: a flag still sends a result to review), the rest wait for the instructor. The task's
 * auto-release setting — nothing parallel to it — so the task settings page shows and changes the same. Run in a
 * transaction.
 */
export async function setReviewThreshold(db: Db, who: TaskEditor, taskId: number, threshold: number): Promise<TaskRow> {
  const task = await lockTaskInCourse(db, who.courseId, taskId);
  if (!task) throw NotFound('The task');
  if (!(threshold >= 0 && threshold <= 1)) throw Invalid({ threshold: 'Choose a threshold from 0 to 100 %.' });
  const changed = [...(task.releasePolicy !== 'immediately' ? ['releasePolicy'] : []), ...(task.autoReleaseMinConfidence !== threshold ? ['autoReleaseMinConfidence'] : [])];
  const row = await updateTaskSettings(db, task.id, {
    title: task.title,
    description: task.description,
    criteria: task.criteria,
    maxScore: task.maxScore,
    maxAttempts: task.maxAttempts,
    attemptPolicy: task.attemptPolicy,
    dueAt: task.dueAt,
    latePolicy: task.latePolicy,
    releasePolicy: 'immediately',
    autoReleaseMinConfidence: threshold,
    waitingNote: task.waitingNote,
  });
  if (changed.length) {
    await recordAudit(db, { platformId: who.platformId, courseId: who.courseId, actorId: who.userId, actorKind: 'user', action: 'task.settings_changed', entityType: 'task', entityId: task.id, details: { changed, reviewThreshold: threshold, from: 'agreement' } });
  }
  return row;
}
