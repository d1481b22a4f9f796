import { z } from 'zod';
import { PROVIDER_POLICIES, type ProviderPolicy } from './optimizer.js';

/** What an administrator may choose when creating batches (the form and the JSON API). */
export const createOptionsSchema = z.object({
  maxPerBatch: z.preprocess((v) => (v === '' || v == null ? undefined : v), z.coerce.number({ error: 'Enter a whole number.' }).int('Enter a whole number.').optional()),
  notes: z.string().trim().max(2000, 'Notes have at most 2000 characters.').optional().default(''),
  /** Where each item goes: its prompt's provider (today's rule), or the cost optimizer's choice (optimizer.ts). */
  providerPolicy: z.enum(PROVIDER_POLICIES as [ProviderPolicy, ...ProviderPolicy[]], { error: 'Choose a provider policy.' }).optional().default('prompt'),
  /** The optimizer's deadline for an item: this long after it was queued, unless its task is due sooner. */
  targetTurnaroundHours: z.preprocess(
    (v) => (v === '' || v == null ? undefined : v),
    z.coerce.number({ error: 'Enter a number of hours.' }).min(0.5, 'Enter at least half an hour.').max(720, 'Enter at most 720 hours (30 days).').optional(),
  ),
});
export type CreateOptions = Partial<z.output<typeof createOptionsSchema>>;

/** An administrator's notes on a batch. */
export const batchNotesSchema = z.object({ notes: z.string().max(2000, 'Notes have at most 2000 characters.').default('').transform((s) => s.trim()) });

/** Most items one emergency override may name. */
export const OVERRIDE_MAX_ITEMS = 500;

/**
 * An emergency override (issue 16, item 4): the queue items to send past a freeze or a spent budget, as ids
 * separated by commas or spaces ("#" allowed, as the queue shows them), and why, in words an auditor can read.
 */
export const overrideForm = z.object({
  ids: z
    .string({ error: 'Name the queue items to send, like 412, 413.' })
    .transform((v, ctx) => {
      const parts = v.split(/[\s,;]+/).map((p) => p.replace(/^#/, '')).filter(Boolean);
      const ids = parts.map(Number);
      if (!parts.length || ids.some((n) => !Number.isSafeInteger(n) || n < 1)) {
        ctx.addIssue({ code: 'custom', message: 'Name the queue items to send by their numbers, like 412, 413.' });
        return z.NEVER;
      }
      const unique = [...new Set(ids)];
      if (unique.length > OVERRIDE_MAX_ITEMS) {
        ctx.addIssue({ code: 'custom', message: `An override sends at most ${OVERRIDE_MAX_ITEMS} items.` });
        return z.NEVER;
      }
      return unique;
    }),
  reason: z
    .string({ error: 'Say why these items cannot wait.' })
    .trim()
    .min(10, 'Say why these items cannot wait, in at least 10 characters (it is kept in the audit log).')
    .max(500, 'A reason has at most 500 characters.'),
});
export type OverrideInput = z.output<typeof overrideForm>;
