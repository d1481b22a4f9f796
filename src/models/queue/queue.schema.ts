import { z } from 'zod';
import { Invalid } from '../../errors.js';
import { filterProblems, queueFilterSchema, type QueueFilter } from './queue.filters.js';
import { PRIORITIES } from './queue.table.js';

/** What the queue's forms and API send: which items (a selection) and what to do with them (an action). */

/**
 * Which items an action is about: the ticked ones, or every item matching the filter ("all matching"). Ids
 * arrive from forms as strings, from JSON as numbers.
 */
export const selectionSchema = z.object({
  scope: z.enum(['selected', 'all']).default('selected'),
  ids: z.preprocess(
    (v) => (v === undefined || v === '' ? [] : Array.isArray(v) ? v : [v]),
    z.array(z.coerce.number().int().positive().max(Number.MAX_SAFE_INTEGER)).max(50_000, 'Select at most 50,000 items at once; use "all matching" for more.'),
  ),
  filter: z.unknown().optional(),
});

export type Selection = { scope: 'selected'; ids: number[] } | { scope: 'all'; filter: QueueFilter };

export function parseSelection(raw: unknown, filterSource: unknown): Selection {
  const parsed = selectionSchema.safeParse(raw ?? {});
  if (!parsed.success) throw Invalid(filterProblems(parsed.error));
  if (parsed.data.scope === 'all') {
    const filter = queueFilterSchema.safeParse(parsed.data.filter ?? filterSource ?? {});
    if (!filter.success) throw Invalid(filterProblems(filter.error));
    return { scope: 'all', filter: filter.data };
  }
  const ids = [...new Set(parsed.data.ids)];
  if (!ids.length) throw Invalid({ ids: 'Select at least one item.' }, 'Nothing is selected.');
  return { scope: 'selected', ids };
}

export const NOTES_MAX = 2000;

export const actionSchema = z.discriminatedUnion('action', [
  z.object({ action: z.literal('priority'), priority: z.enum(PRIORITIES, { error: 'Choose high, normal or low.' }) }),
  z.object({ action: z.literal('notes'), notes: z.string().max(NOTES_MAX, `Notes have at most ${NOTES_MAX} characters.`).default('') }),
  z.object({ action: z.literal('skip') }),
  z.object({
    action: z.literal('reschedule'),
    notBefore: z.preprocess(
      (v) => (v === '' || v == null ? null : v),
      z
        .string()
        .refine((s) => !Number.isNaN(Date.parse(s)), 'Enter a date and time.')
        .transform((s) => new Date(/[zZ]|[+-]\d{2}:?\d{2}$/.test(s) ? s : `${s}Z`))
        .nullable(),
    ),
  }),
  z.object({ action: z.literal('requeue') }),
]);
export type QueueAction = z.infer<typeof actionSchema>;
