import type { TaskRow } from '../models/tasks/tasks.repository.js';
import { formatScore } from './present.js';

/** A task's settings as the form's fields hold them (strings), for the settings page and the deep-linking form. */
export type SettingsFormValues = Record<string, string>;

/** `YYYY-MM-DDTHH:MM` in UTC, which public/js/local-time.js shows in the reader's zone (and converts back). */
export function dateTimeLocalUtc(d: Date | null): string {
  return d ? d.toISOString().slice(0, 16) : '';
}

export function settingsFormValues(task: Pick<TaskRow, 'title' | 'description' | 'criteria' | 'maxScore' | 'maxAttempts' | 'attemptPolicy' | 'dueAt' | 'latePolicy' | 'releasePolicy' | 'autoReleaseMinConfidence' | 'waitingNote'>): SettingsFormValues {
  return {
    title: task.title,
    description: task.description,
    criteria: task.criteria,
    maxScore: formatScore(task.maxScore),
    maxAttempts: String(task.maxAttempts),
    attemptPolicy: task.attemptPolicy,
    dueAt: dateTimeLocalUtc(task.dueAt),
    dueAtIso: task.dueAt?.toISOString() ?? '',
    latePolicy: task.latePolicy,
    releasePolicy: task.releasePolicy,
    autoReleaseMinConfidence: task.autoReleaseMinConfidence == null ? '' : String(Math.round(task.autoReleaseMinConfidence * 100)),
    waitingNote: task.waitingNote,
  };
}

/** A new task's settings in the deep-linking form. */
export const NEW_TASK_VALUES: SettingsFormValues = {
  title: '',
  description: '',
  criteria: '',
  maxScore: '10',
  maxAttempts: '1',
  attemptPolicy: 'last',
  dueAt: '',
  dueAtIso: '',
  latePolicy: 'accept',
  releasePolicy: 'after_approval',
  autoReleaseMinConfidence: '',
  waitingNote: '',
};
