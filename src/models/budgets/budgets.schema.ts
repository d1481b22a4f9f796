import { z } from 'zod';
import { GROUPINGS } from './cost-report.repository.js';

/** What the budget forms send: a limit for the platform or a course and month, and freeze/unfreeze. */

/** The largest monthly limit accepted: a typo guard, far above any plausible grading spend. */
export const MAX_LIMIT_MICROS = 1_000_000 * 1_000_000;
/** Budgets can be set for the current month and this many months after it. */
export const MONTHS_AHEAD = 2;

/** Dollars typed into a form ("250", "99.5", "$1200.00") → integer micro-dollars, without floating point. */
export const dollarsField = z
  .string({ error: 'Enter a monthly limit in dollars, like 250 or 99.50.' })
  .trim()
  .transform((v, ctx) => {
    const m = /^\$?\s*(\d{1,9})(?:\.(\d{1,2}))?$/.exec(v);
    if (!m) {
      ctx.addIssue({ code: 'custom', message: v ? 'Enter dollars with at most two decimals and no thousands separators, like 250 or 99.50.' : 'Enter a monthly limit in dollars, like 250 or 99.50.' });
      return z.NEVER;
    }
    const micros = Number(m[1]) * 1_000_000 + Number((m[2] ?? '').padEnd(2, '0')) * 10_000;
    if (micros <= 0) {
      ctx.addIssue({ code: 'custom', message: 'The limit must be more than $0. To stop all spending, freeze the budget instead.' });
      return z.NEVER;
    }
    if (micros > MAX_LIMIT_MICROS) {
      ctx.addIssue({ code: 'custom', message: 'A monthly limit is at most $1,000,000.' });
      return z.NEVER;
    }
    return micros;
  });

/** The warnings before the limit when an administrator names none (REQ-005); the limit itself, 100 %, always alerts. */
export const DEFAULT_WARNINGS = [75, 90, 95];

/** "75, 90, 95" → [75, 90, 95, 100]: up to five whole percentages from 1 to 99, then the limit. Empty: undefined (the budget's own, or the defaults). */
export const warningsField = z
  .string({ error: 'Enter the percentages to warn at, like 75, 90, 95.' })
  .trim()
  .optional()
  .transform((v, ctx) => {
    if (!v) return undefined;
    const parts = v.split(/[\s,;%]+/).filter(Boolean);
    const values = parts.map(Number);
    if (parts.length > 5 || values.some((n) => !Number.isInteger(n) || n < 1 || n > 99)) {
      ctx.addIssue({ code: 'custom', message: 'Enter up to five whole percentages between 1 and 99, like 75, 90, 95 (the limit, 100 %, always alerts).' });
      return z.NEVER;
    }
    return [...new Set(values)].sort((a, b) => a - b).concat(100);
  });

export const budgetForm = z.object({
  scope: z
    .string({ error: 'Choose the platform or one of its courses.' })
    .regex(/^(platform|course-\d{1,15})$/, 'Choose the platform or one of its courses.')
    .transform((v) => (v === 'platform' ? null : Number(v.slice('course-'.length)))),
  month: z.string({ error: 'Choose a month.' }).regex(/^\d{4}-(0[1-9]|1[0-2])$/, 'Choose a month.').transform((v) => `${v}-01`),
  limit: dollarsField,
  warnAt: warningsField,
  /** A checkbox: present ("on") carries last month's unused amount over. */
  carryOver: z
    .string()
    .optional()
    .transform((v) => v === 'on' || v === 'true'),
});

export const freezeForm = z.object({ frozen: z.enum(['true', 'false'], { error: 'Say whether to freeze (true) or unfreeze (false) the budget.' }).transform((v) => v === 'true') });
export type BudgetInput = z.output<typeof budgetForm>;

/**
 * The same budget through the JSON API: `courseId` (null or absent: the platform), `month` as YYYY-MM, `limit` in
 * dollars (a JSON number, at most two decimals), `warnAt` as a list of percentages. Checked by the form's
 * rules, so both answer with the same messages.
 */
export const budgetBody = z
  .object({
    courseId: z.number({ error: 'courseId is a course id, or null for the platform.' }).int().positive().max(Number.MAX_SAFE_INTEGER).nullable().optional(),
    month: z.string({ error: 'Choose a month.' }),
    limit: z.number({ error: 'Give the monthly limit in dollars as a number, like 250 or 99.5.' }).transform(String),
    warnAt: z.array(z.number({ error: 'Enter the percentages to warn at, like [75, 90, 95].' })).max(5, 'Enter up to five percentages.').optional(),
    carryOver: z.boolean({ error: 'carryOver is true or false.' }).default(false),
  })
  .strict()
  .transform((b) => ({ scope: b.courseId == null ? 'platform' : `course-${b.courseId}`, month: b.month, limit: b.limit, ...(b.carryOver ? { carryOver: 'on' } : {}), ...(b.warnAt ? { warnAt: b.warnAt.join(', ') } : {}) }))
  .pipe(budgetForm);

export const freezeBody = z.object({ frozen: z.boolean({ error: 'Say whether to freeze (true) or unfreeze (false) the budget.' }) }).strict();

const monthParam = (what: string) => z.string().regex(/^\d{4}-(0[1-9]|1[0-2])$/, `Give ${what} as YYYY-MM, like 2026-11.`).transform((v) => `${v}-01`);

/** The cost summary's query: a period of at most 36 months (default: the current month), one course or all, a grouping. */
export const costSummaryQuery = z
  .object({
    from: monthParam('from').optional(),
    to: monthParam('to').optional(),
    course: z.coerce.number({ error: 'course is a course id.' }).int().positive().max(Number.MAX_SAFE_INTEGER).optional(),
    groupBy: z.enum(GROUPINGS, { error: `groupBy is one of ${GROUPINGS.join(', ')}.` }).default('month'),
  })
  .strict();

/** Moving part of one course budget's limit to another's (the same month). */
export const allocationForm = z.object({
  from: z.coerce.number({ error: 'Choose the budget to take from.' }).int('Choose the budget to take from.').positive('Choose the budget to take from.').max(Number.MAX_SAFE_INTEGER),
  to: z.coerce.number({ error: 'Choose the budget to give to.' }).int('Choose the budget to give to.').positive('Choose the budget to give to.').max(Number.MAX_SAFE_INTEGER),
  amount: dollarsField,
});
export type AllocationInput = z.output<typeof allocationForm>;
