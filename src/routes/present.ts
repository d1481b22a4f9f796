import type { TaskType } from '../models/tasks/tasks.table.js';

/** Small formatting shared by views: labels people read, dates in one style. */

const TASK_TYPE_LABELS: Record<TaskType, string> = {
  essay: 'Essay',
  short_answer: 'Short answer',
  code: 'Code',
  reflection: 'Reflection',
  other: 'Other',
};

export function taskTypeLabel(type: TaskType): string {
  return TASK_TYPE_LABELS[type] ?? type;
}

// One formatter for every call: toLocaleString() builds a new Intl.DateTimeFormat each time (about 0.1 ms), which
// a page of 50 rows would pay 50 times.
const DATE_TIME = new Intl.DateTimeFormat('en-GB', { dateStyle: 'medium', timeStyle: 'short', timeZone: 'UTC' });

export function formatDateTime(d: Date): string {
  return DATE_TIME.format(d) + ' UTC';
}

export function formatScore(n: number): string {
  return Number.isInteger(n) ? String(n) : n.toFixed(2).replace(/0+$/, '').replace(/\.$/, '');
}

/** What every page says of a task: its title, what students are asked and how it is judged, its kind and maximum. */
export function taskBasics(task: { id: number; title: string; description: string; criteria: string; taskType: TaskType; maxScore: number }) {
  return { id: task.id, title: task.title, description: task.description, criteria: task.criteria, typeLabel: taskTypeLabel(task.taskType), maxScore: formatScore(task.maxScore) };
}
