import { z } from 'zod';

export const peopleQuery = z.object({ q: z.string().trim().max(200, 'Search for at most 200 characters.').optional().transform((v) => v || undefined) });

/** Deleting a person's data cannot be undone: the form asks for an explicit confirmation. */
export const erasureForm = z.object({ confirm: z.literal('yes', { message: 'Tick the box to confirm: deleting cannot be undone.' }) });
