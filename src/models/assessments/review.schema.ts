import { z } from 'zod';
import { int4, parseInput } from '../../validation.js';
import { OVERRIDE_CATEGORIES } from './override-category.js';

/** What an instructor's review decisions send: an override (score, criteria, feedback, reason) or a rejection. */

export const REASON_MAX = 2000;
export const FEEDBACK_MAX = 10_000;

const seq = int4('This form is out of date: reload the page.');
const optionalText = (max: number, label: string) =>
  z
    .string()
    .trim()
    .max(max, `${label} has at most ${max} characters.`)
    .optional()
    .transform((v) => v || undefined);

/** A score field: empty is "not given"; anything else must be a number in range (checked with the range later). */
const scoreField = z
  .union([z.string(), z.number()])
  .optional()
  .transform((v, ctx) => {
    if (v === undefined || (typeof v === 'string' && v.trim() === '')) return undefined;
    const n = typeof v === 'number' ? v : Number(v.trim().replace(',', '.'));
    if (!Number.isFinite(n)) {
      ctx.addIssue({ code: 'custom', message: 'Enter a number.' });
      return z.NEVER;
    }
    return Math.round(n * 100) / 100;
  });

/** What was wrong with the model's grade: one of the categories, or empty (required for a model's grade by the service). */
const categoryField = z.preprocess(
  (v) => (typeof v === 'string' && v.trim() === '' ? undefined : typeof v === 'string' ? v.trim() : v),
  z.enum(OVERRIDE_CATEGORIES, { error: 'Choose what was wrong with the grade from the list.' }).optional(),
);

export const overrideSchema = z.object({
  decisionSeq: seq,
  score: scoreField,
  criteria: z.record(z.string(), scoreField).optional(),
  feedback: optionalText(FEEDBACK_MAX, 'Feedback'),
  category: categoryField,
  reason: optionalText(REASON_MAX, 'The reason'),
});

export const rejectSchema = z.object({
  decisionSeq: seq,
  rejectTo: z.enum(['queue', 'manual'], { error: 'Choose where the work goes: back to the queue or to manual grading.' }),
  note: optionalText(REASON_MAX, 'The note'),
});

/** Forms send criterion scores as flat `criteria[<id>]` fields (urlencoded, not extended); JSON sends an object. */
function withCriteriaObject(raw: unknown): Record<string, unknown> {
  const body = { ...((raw ?? {}) as Record<string, unknown>) };
  const criteria: Record<string, unknown> = typeof body.criteria === 'object' && body.criteria !== null ? { ...(body.criteria as Record<string, unknown>) } : {};
  for (const [key, value] of Object.entries(body)) {
    const m = /^criteria\[([A-Za-z0-9_-]{1,64})\]$/.exec(key);
    if (m) criteria[m[1]!] = value;
  }
  body.criteria = criteria;
  return body;
}

export type OverrideInput = z.output<typeof overrideSchema>;
export type RejectInput = z.output<typeof rejectSchema>;

// Override criteria are named `criteria.<id>` in the form: two path segments at most.
const FORM_FIELDS = { depth: 2, fallback: 'form' };

/** An override as a form or JSON sends it; a 422 naming each field when it is not one. */
export const parseOverride = (raw: unknown): OverrideInput => parseInput(overrideSchema, withCriteriaObject(raw), FORM_FIELDS);

export const parseReject = (raw: unknown): RejectInput => parseInput(rejectSchema, raw, FORM_FIELDS);

