import { z } from 'zod';
import type { ReviewListFilter } from '../models/assessments/review.repository.js';
import { INT4_MAX, int4 } from '../validation.js';
import { OVERRIDE_CATEGORIES } from '../models/assessments/override-category.js';

/** Query and form input of the review area (parsed at the edge; the service checks ranges against the rubric). */

const emptyToUndefined = (v: unknown) => (typeof v === 'string' && v.trim() === '' ? undefined : v);
const optionalNumber = (message: string, min: number, max: number) =>
  z.preprocess(emptyToUndefined, z.coerce.number({ error: message }).min(min, message).max(max, message).optional());

export const reviewQuerySchema = z.object({
  status: z.preprocess(emptyToUndefined, z.enum(['pending', 'manual', 'appeals', 'approved', 'overridden', 'all'], { error: 'Choose a status from the list.' }).default('pending')),
  task: z.preprocess(emptyToUndefined, z.coerce.number({ error: 'Choose a task from the list.' }).int().positive('Choose a task from the list.').optional()),
  flag: z.preprocess(emptyToUndefined, z.string().trim().max(60, 'Choose a flag from the list.').regex(/^[a-z_]+$/, 'Choose a flag from the list.').optional()),
  confidenceBelow: optionalNumber('Enter a confidence from 0 to 100 (%).', 0, 100),
  scoreMin: optionalNumber('Enter a score from 0 to 1000.', 0, 1000),
  scoreMax: optionalNumber('Enter a score from 0 to 1000.', 0, 1000),
});

export type ReviewQuery = z.output<typeof reviewQuerySchema>;

export function toListFilter(q: ReviewQuery): ReviewListFilter {
  return {
    status: q.status,
    taskId: q.task,
    flag: q.flag,
    confidenceBelow: q.confidenceBelow === undefined ? undefined : q.confidenceBelow / 100,
    scoreMin: q.scoreMin,
    scoreMax: q.scoreMax,
  };
}

/** Parses the filter; bad values are dropped and reported beside their field. */
export function parseReviewQuery(raw: unknown): { query: ReviewQuery; fields: Record<string, string> } {
  const fields: Record<string, string> = {};
  let parsed = reviewQuerySchema.safeParse(raw ?? {});
  if (!parsed.success) {
    const cleaned: Record<string, unknown> = { ...(raw as Record<string, unknown>) };
    for (const issue of parsed.error.issues) {
      const key = String(issue.path[0]);
      fields[key] ??= issue.message;
      delete cleaned[key];
    }
    parsed = reviewQuerySchema.safeParse(cleaned);
  }
  const query = parsed.success ? parsed.data : reviewQuerySchema.parse({});
  if (query.scoreMin !== undefined && query.scoreMax !== undefined && query.scoreMin > query.scoreMax) {
    fields.scoreMax = 'The highest score must not be below the lowest.';
    query.scoreMax = undefined;
  }
  return { query, fields };
}

export const decisionSeqSchema = z.object({ decisionSeq: int4('This form is out of date: reload the page.') });

/** Checkbox lists arrive as one string or an array of strings. */
export const bulkSchema = z.object({
  ids: z.preprocess((v) => (v === undefined ? [] : Array.isArray(v) ? v : [v]), z.array(z.coerce.number({ error: 'Select assessments from the list.' }).int().positive()).max(500, 'Approve at most 500 at once.')),
  confirmFlagged: z.preprocess((v) => v === 'on' || v === 'true' || v === true, z.boolean()),
});

export const analyticsQuerySchema = z.object({
  task: z.preprocess(emptyToUndefined, z.coerce.number().int().positive().optional()).catch(undefined),
  version: z.preprocess(emptyToUndefined, z.coerce.number().int().positive().max(INT4_MAX).optional()).catch(undefined),
});

/**
 * The Agreement page's calibration target: the largest share (%) of changed results accepted above a review threshold.
 * Empty: 10 %.
 */
export const calibrationTargetSchema = z.object({
  target: z.preprocess(emptyToUndefined, z.coerce.number({ error: 'Enter a whole percentage from 1 to 50.' }).int('Enter a whole percentage from 1 to 50.').min(1, 'Enter a whole percentage from 1 to 50.').max(50, 'Enter a whole percentage from 1 to 50.').default(10)),
});
export const DEFAULT_CALIBRATION_TARGET = 10;

/** "Use this threshold" on the Agreement page: a whole percentage. */
export const reviewThresholdSchema = z.object({
  threshold: z.preprocess(emptyToUndefined, z.coerce.number({ error: 'Choose a threshold from 0 to 100 %.' }).int('Choose a whole percentage from 0 to 100.').min(0, 'Choose a threshold from 0 to 100 %.').max(100, 'Choose a threshold from 0 to 100 %.')),
});

/** The JSON API's review call: one decision, with the decision number it was made from. */
export const apiReviewSchema = z.discriminatedUnion('action', [
  z.object({ action: z.literal('approve'), decisionSeq: z.number().int().min(0).max(INT4_MAX) }),
  z.object({
    action: z.literal('override'),
    decisionSeq: z.number().int().min(0).max(INT4_MAX),
    // Either a score or every criterion (the score is then their sum); the reason is required unless graded by hand.
    score: z.number().optional(),
    criteria: z.record(z.string(), z.number()).optional(),
    feedback: z.string().optional(),
    // Required with the reason, unless graded by hand.
    category: z.enum(OVERRIDE_CATEGORIES).optional(),
    reason: z.string().optional(),
  }),
  z.object({ action: z.literal('reject'), decisionSeq: z.number().int().min(0).max(INT4_MAX), rejectTo: z.enum(['queue', 'manual']), note: z.string().optional() }),
]);
