import { z } from 'zod';
import { TASK_TYPES } from '../tasks/tasks.table.js';
import { PRIORITIES, QUEUE_STATUSES } from './queue.table.js';
import { fieldsOf } from '../../validation.js';

/**
 * The admin dashboard's filters, sorting and paging, from a query string or a JSON body. Empty strings mean
 * "any" (an unset select in a form). Dates are days (YYYY-MM-DD) or times; "to" includes its whole day.
 */

const blank = (v: unknown) => (v === '' || v === null ? undefined : v);
const optionalId = z.preprocess(blank, z.coerce.number().int().positive().max(Number.MAX_SAFE_INTEGER).optional());
const dateInput = z.preprocess(
  blank,
  z
    .string()
    .regex(/^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?)?$/, 'Enter a date as YYYY-MM-DD.')
    .refine((s) => !Number.isNaN(Date.parse(s.length === 10 ? `${s}T00:00:00Z` : s)), 'Enter a real date.')
    .optional(),
);

export const QUEUE_SORTS = ['priority', 'oldest', 'newest', 'cost', 'tokens', 'course', 'status'] as const;
export type QueueSort = (typeof QUEUE_SORTS)[number];
export const PAGE_SIZES = [25, 50, 100, 200] as const;

export const queueFilterSchema = z.object({
  course: optionalId,
  instructor: optionalId,
  task: optionalId,
  taskType: z.preprocess(blank, z.enum(TASK_TYPES).optional()),
  from: dateInput,
  to: dateInput,
  priority: z.preprocess(blank, z.enum(PRIORITIES).optional()),
  status: z.preprocess(blank, z.enum([...QUEUE_STATUSES, 'all']).optional().default('queued')),
});
export type QueueFilter = z.infer<typeof queueFilterSchema>;

export const queueListSchema = queueFilterSchema.extend({
  sort: z.preprocess(blank, z.enum(QUEUE_SORTS).optional().default('priority')),
  page: z.preprocess(blank, z.coerce.number().int().min(1).max(1_000_000).optional().default(1)),
  pageSize: z.preprocess(
    blank,
    z.coerce
      .number()
      .int()
      .refine((n) => (PAGE_SIZES as readonly number[]).includes(n), `Choose ${PAGE_SIZES.join(', ')} items per page.`)
      .optional()
      .default(50),
  ),
});
export type QueueListQuery = z.infer<typeof queueListSchema>;

/** Start and end (exclusive) instants of the date filters. */
export function dateRange(filter: Pick<QueueFilter, 'from' | 'to'>): { from: Date | null; to: Date | null } {
  const at = (s: string) => new Date(s.length === 10 ? `${s}T00:00:00Z` : s);
  const to = filter.to ? at(filter.to) : null;
  if (to && filter.to!.length === 10) to.setUTCDate(to.getUTCDate() + 1);
  return { from: filter.from ? at(filter.from) : null, to };
}

/** Field messages for a bad query (422), named as the form names its fields. */
export function filterProblems(error: z.ZodError): Record<string, string> {
  return fieldsOf(error, { depth: 1 });
}
