import { z } from 'zod';

const DATE = /^\d{4}-\d{2}-\d{2}$/;
const optionalText = (max: number, message: string) => z.string().trim().max(max, message).optional().transform((v) => v || undefined);
const optionalDate = z
  .string()
  .trim()
  .optional()
  .transform((v) => v || undefined)
  .refine((v) => v === undefined || (DATE.test(v) && !Number.isNaN(Date.parse(`${v}T00:00:00Z`))), 'Enter a date as YYYY-MM-DD.');

/** The audit log page's filters (a GET form) and its cursor. */
export const auditQuery = z
  .object({
    actor: optionalText(100, 'Search for at most 100 characters.'),
    action: z
      .string()
      .trim()
      .optional()
      .transform((v) => v || undefined)
      .refine((v) => v === undefined || /^[a-z_]+(\.[a-z_]+)?$/.test(v), 'Choose an action from the list.'),
    courseId: z
      .string()
      .trim()
      .optional()
      .transform((v) => (v ? Number(v) : undefined))
      .refine((v) => v === undefined || (Number.isSafeInteger(v) && v > 0 && v <= 2 ** 31), 'Choose a course from the list.'),
    provider: z.enum(['', 'openai', 'anthropic'], { message: 'Choose a provider from the list.' }).optional().transform((v) => v || undefined),
    from: optionalDate,
    to: optionalDate,
    before: z
      .string()
      .optional()
      .transform((v) => (v ? Number(v) : undefined))
      .refine((v) => v === undefined || (Number.isSafeInteger(v) && v > 0), 'The page cursor is not valid.'),
  })
  .refine((q) => !q.from || !q.to || q.from <= q.to, { message: 'The start date is after the end date.', path: ['to'] });

export type AuditQuery = z.infer<typeof auditQuery>;
