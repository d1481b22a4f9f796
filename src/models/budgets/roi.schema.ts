import { z } from 'zod';

/** What the cost report's forms and query send: the month, the platform's cost settings, a task's minutes. */

/** The highest hourly rate accepted: the cost_settings check (10,000,000,000 micro-dollars). */
export const MAX_HOURLY_RATE_MICROS = 10_000 * 1_000_000;
/** Minutes per hand-graded submission: the tasks and cost_settings checks. */
export const MIN_MANUAL_MINUTES = 1;
export const MAX_MANUAL_MINUTES = 600;

/** 'YYYY-MM' → 'YYYY-MM-01'; years the database's dates and the ledger can hold sensibly (1970–9999). */
export const reportMonthField = z
  .string({ error: 'Choose a month as YYYY-MM, like 2026-11.' })
  .regex(/^(19[7-9]\d|[2-9]\d{3})-(0[1-9]|1[0-2])$/, 'Choose a month as YYYY-MM, like 2026-11.')
  .transform((v) => `${v}-01`);

/** The report's query: a month (default: the current one) and the print view (print=1). Other parameters (ltik) pass. */
export const reportQuery = z.object({
  month: reportMonthField.optional(),
  print: z.unknown().optional().transform((v) => v === '1'),
});

const RATE_MESSAGE = 'Enter an hourly rate in dollars with at most two decimals, like 45 or 52.50, or leave it empty.';
const MINUTES_MESSAGE = `Enter whole minutes from ${MIN_MANUAL_MINUTES} to ${MAX_MANUAL_MINUTES}, or leave it empty.`;

/** Dollars per hour ("45", "52.5", "$60.00") → integer micro-dollars, without floating point; empty → null. */
const hourlyRateField = z
  .string({ error: RATE_MESSAGE })
  .trim()
  .transform((v, ctx) => {
    if (v === '') return null;
    const m = /^\$?\s*(\d{1,5})(?:\.(\d{1,2}))?$/.exec(v);
    const micros = m ? Number(m[1]) * 1_000_000 + Number((m[2] ?? '').padEnd(2, '0')) * 10_000 : NaN;
    if (!m || micros <= 0 || micros > MAX_HOURLY_RATE_MICROS) {
      ctx.addIssue({ code: 'custom', message: m ? 'An hourly rate is more than $0 and at most $10,000.' : RATE_MESSAGE });
      return z.NEVER;
    }
    return micros;
  });

/** Whole minutes from 1 to 600; empty → null. */
const minutesField = z
  .string({ error: MINUTES_MESSAGE })
  .trim()
  .transform((v, ctx) => {
    if (v === '') return null;
    const n = /^\d{1,3}$/.test(v) ? Number(v) : NaN;
    if (!(n >= MIN_MANUAL_MINUTES && n <= MAX_MANUAL_MINUTES)) {
      ctx.addIssue({ code: 'custom', message: MINUTES_MESSAGE });
      return z.NEVER;
    }
    return n;
  });

/** The platform's settings: the hourly rate of instructor time and the default minutes per hand-graded submission. */
export const costSettingsForm = z.object({
  hourlyRate: hourlyRateField,
  defaultMinutes: minutesField,
});
export type CostSettingsInput = z.output<typeof costSettingsForm>;

/** One task's minutes per hand-graded submission (empty: the platform's default). */
export const taskMinutesForm = z.object({ minutes: minutesField });
