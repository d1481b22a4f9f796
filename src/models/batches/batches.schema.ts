import { z } from 'zod';

/** What an administrator may choose when creating batches (the form and the JSON API). */
export const createOptionsSchema = z.object({
  maxPerBatch: z.preprocess((v) => (v === '' || v == null ? undefined : v), z.coerce.number({ error: 'Enter a whole number.' }).int('Enter a whole number.').optional()),
  notes: z.string().trim().max(2000, 'Notes have at most 2000 characters.').optional().default(''),
});
export type CreateOptions = Partial<z.output<typeof createOptionsSchema>>;

/** An administrator's notes on a batch. */
export const batchNotesSchema = z.object({ notes: z.string().max(2000, 'Notes have at most 2000 characters.').default('').transform((s) => s.trim()) });
