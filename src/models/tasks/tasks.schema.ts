import { z } from 'zod';
import { ATTEMPT_POLICIES, LATE_POLICIES, RELEASE_POLICIES } from './tasks.table.js';

/**
 * What an instructor sets on a task, shared by the task settings page and the deep-linking form (a new task): the
 * description and criteria the prompt's `{task_description}` and `{task_criteria}` use, attempts and which counts,
 * the due date and late policy, and when feedback is released.
 */

const text = (max: number, label: string) => z.string().trim().max(max, `${label} has at most ${max.toLocaleString('en')} characters.`).optional().default('');
const choice = <T extends readonly [string, ...string[]]>(values: T, message: string) => z.enum(values, { error: message });

/** `<input type="datetime-local">` (no zone) plus the browser's offset in minutes (Date#getTimezoneOffset); none: UTC. */
const dueAt = z
  .object({ dueAt: z.string().trim().optional().default(''), tzOffset: z.string().trim().optional().default('') })
  .transform((v, ctx): Date | null => {
    if (!v.dueAt) return null;
    const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::\d{2})?$/.exec(v.dueAt);
    const offset = v.tzOffset === '' ? 0 : Number(v.tzOffset);
    const at = m ? Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5])) : NaN;
    if (!m || !Number.isInteger(offset) || Math.abs(offset) > 14 * 60 || Number.isNaN(at) || new Date(at).getUTCDate() !== Number(m[3])) {
      ctx.addIssue({ code: 'custom', path: ['dueAt'], message: 'Enter a date and time, e.g. 2026-12-18 17:00.' });
      return z.NEVER;
    }
    return new Date(at + offset * 60_000);
  });

const settingsFields = z.object({
  description: text(20_000, 'The description'),
  criteria: text(20_000, 'The criteria'),
  maxAttempts: z.coerce.number({ error: 'Enter a whole number from 1 to 100.' }).int('Enter a whole number from 1 to 100.').min(1, 'At least 1 attempt.').max(100, 'At most 100 attempts.'),
  attemptPolicy: choice(ATTEMPT_POLICIES, 'Choose which attempt counts: the last or the best.'),
  latePolicy: choice(LATE_POLICIES, 'Choose what happens to late work.'),
  releasePolicy: choice(RELEASE_POLICIES, 'Choose when students see their feedback.'),
  /** Percent in the form (0–100), stored as 0–1; empty: no threshold. */
  autoReleaseMinConfidence: z
    .union([z.literal(''), z.coerce.number({ error: 'Enter a percentage from 0 to 100, or leave it empty.' }).min(0, 'From 0 to 100.').max(100, 'From 0 to 100.')])
    .optional()
    .transform((v) => (v === '' || v === undefined ? null : Math.round(v * 100) / 10_000)),
  waitingNote: text(5_000, 'The note'),
});

const maxScore = z.coerce.number({ error: 'Enter a number.' }).positive('The maximum score must be above 0.').max(1000, 'The maximum score is at most 1000.');

/** The settings page: the title and maximum too (the maximum only while no LMS gradebook column holds it). */
export const taskSettingsSchema = z
  .object({ title: z.string().trim().min(1, 'Give the task a title.').max(200, 'A title has at most 200 characters.'), maxScore: maxScore.optional() })
  .and(settingsFields)
  .and(dueAt.transform((d) => ({ dueAt: d })));
export type TaskSettingsInput = z.output<typeof taskSettingsSchema>;

/** The deep-linking form: an existing task of the course, or a new one with its title, maximum and settings. */
export const placementSchema = z
  .object({
    taskId: z.union([z.literal('new'), z.coerce.number({ error: 'Choose a task.' }).int().positive()]),
    title: z.string().trim().max(200, 'A title has at most 200 characters.').optional(),
    maxScore: maxScore.optional(),
  })
  .refine((c) => c.taskId !== 'new' || Boolean(c.title), { path: ['title'], message: 'Give the new task a title.' })
  .and(settingsFields.partial({ maxAttempts: true, attemptPolicy: true, latePolicy: true, releasePolicy: true }))
  .and(dueAt.transform((d) => ({ dueAt: d })));
export type PlacementInput = z.output<typeof placementSchema>;

/** The settings a new task takes from the deep-linking form (defaults where the form left a choice out). */
export function newTaskSettings(input: PlacementInput) {
  return {
    description: input.description ?? '',
    criteria: input.criteria ?? '',
    maxAttempts: input.maxAttempts ?? 1,
    attemptPolicy: input.attemptPolicy ?? 'last',
    latePolicy: input.latePolicy ?? 'accept',
    releasePolicy: input.releasePolicy ?? 'after_approval',
    autoReleaseMinConfidence: input.autoReleaseMinConfidence ?? null,
    waitingNote: input.waitingNote ?? '',
    dueAt: input.dueAt,
  } as const;
}
