import { z } from 'zod';
import { PRIORITIES } from '../queue/queue.table.js';
import { cronProblem } from './schedule-times.js';
import { PROVIDER_POLICIES, type ProviderPolicy } from '../batches/optimizer.js';

/**
 * A schedule as the administrators' form sends it (strings; empty means "none"). One schema for create and edit;
 * the fields a trigger does not use are ignored (and stored as null), so switching a trigger never leaves a
 * stale number behind.
 */

const blank = (v: unknown) => (typeof v === 'string' && v.trim() === '' ? undefined : v);
const whole = (min: number, max: number, what: string) =>
  z.preprocess(blank, z.coerce.number({ error: `Enter ${what}.` }).int(`Enter ${what} as a whole number.`).min(min, `Enter ${what} of at least ${min}.`).max(max, `Enter ${what} of at most ${max.toLocaleString('en')}.`));
const optionalId = z.preprocess(blank, z.coerce.number().int().positive().max(Number.MAX_SAFE_INTEGER).optional());
const clock = z.preprocess(
  blank,
  z
    .string()
    .regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'Enter a time as HH:MM (24-hour, UTC).')
    .transform((s) => Number(s.slice(0, 2)) * 60 + Number(s.slice(3)))
    .optional(),
);

export const MAX_INTERVAL_MINUTES = 7 * 24 * 60;
export const MAX_ITEMS = 50_000;

export const scheduleFormSchema = z
  .object({
    name: z.string({ error: 'Give the schedule a name.' }).trim().min(1, 'Give the schedule a name.').max(100, 'A name has at most 100 characters.'),
    trigger: z.enum(['interval', 'cron', 'threshold'], { error: 'Choose when the schedule runs.' }),
    intervalMinutes: z.unknown().optional(),
    cron: z.unknown().optional(),
    thresholdItems: z.unknown().optional(),
    thresholdWaitMinutes: z.unknown().optional(),
    windowStart: clock,
    windowEnd: clock,
    course: optionalId,
    task: optionalId,
    priority: z.preprocess(blank, z.enum(PRIORITIES, { error: 'Choose high, normal or low.' }).optional()),
    minItems: whole(1, MAX_ITEMS, 'a minimum'),
    maxItems: whole(1, MAX_ITEMS, 'a maximum'),
    sending: z.enum(['confirm', 'send'], { error: 'Choose whether runs wait for a confirmation or send themselves.' }),
    providerPolicy: z.preprocess(blank, z.enum(PROVIDER_POLICIES as [ProviderPolicy, ...ProviderPolicy[]], { error: 'Choose a provider policy.' }).optional().default('prompt')),
    targetTurnaroundHours: z.preprocess(blank, whole(1, 720, 'a target turnaround in hours').optional()),
  })
  .superRefine((v, ctx) => {
    const check = (path: string, schema: z.ZodType, value: unknown) => {
      const r = schema.safeParse(value);
      if (!r.success) ctx.addIssue({ code: 'custom', path: [path], message: r.error.issues[0]!.message });
    };
    if (v.trigger === 'interval') check('intervalMinutes', whole(1, MAX_INTERVAL_MINUTES, 'an interval in minutes'), v.intervalMinutes);
    if (v.trigger === 'cron') {
      const expr = typeof v.cron === 'string' ? v.cron.trim() : '';
      const problem = expr ? cronProblem(expr) : 'Enter a cron expression (five fields: minute hour day month weekday, UTC).';
      if (problem) ctx.addIssue({ code: 'custom', path: ['cron'], message: problem });
    }
    if (v.trigger === 'threshold') {
      check('thresholdItems', whole(1, MAX_ITEMS, 'a number of items'), v.thresholdItems);
      check('thresholdWaitMinutes', whole(1, MAX_INTERVAL_MINUTES, 'a waiting time in minutes'), v.thresholdWaitMinutes);
    }
    if ((v.windowStart === undefined) !== (v.windowEnd === undefined)) {
      ctx.addIssue({ code: 'custom', path: [v.windowStart === undefined ? 'windowStart' : 'windowEnd'], message: 'Give both ends of the time window, or neither.' });
    } else if (v.windowStart !== undefined && v.windowStart === v.windowEnd) {
      ctx.addIssue({ code: 'custom', path: ['windowEnd'], message: 'The window must not start and end at the same time (leave both empty for any time).' });
    }
    if (typeof v.minItems === 'number' && typeof v.maxItems === 'number' && v.maxItems < v.minItems) {
      ctx.addIssue({ code: 'custom', path: ['maxItems'], message: 'The maximum must not be below the minimum.' });
    }
  })
  .transform((v) => ({
    name: v.name,
    trigger: v.trigger,
    intervalMinutes: v.trigger === 'interval' ? Number(v.intervalMinutes) : null,
    cron: v.trigger === 'cron' ? String(v.cron).trim().replace(/\s+/g, ' ') : null,
    thresholdItems: v.trigger === 'threshold' ? Number(v.thresholdItems) : null,
    thresholdWaitMinutes: v.trigger === 'threshold' ? Number(v.thresholdWaitMinutes) : null,
    windowStartMinute: v.windowStart ?? null,
    windowEndMinute: v.windowEnd ?? null,
    courseId: v.course ?? null,
    taskId: v.task ?? null,
    priority: v.priority ?? null,
    minItems: v.minItems,
    maxItems: v.maxItems,
    needsConfirmation: v.sending === 'confirm',
    providerPolicy: v.providerPolicy,
    targetTurnaroundHours: v.targetTurnaroundHours ?? null,
  }));

export type ScheduleInput = z.output<typeof scheduleFormSchema>;
