import { z } from 'zod';
import { EMAIL_FREQUENCIES } from './notifications.table.js';
import { BODY_MAX_CHARS, SUBJECT_MAX_CHARS } from './events.js';

/** A person's e-mail preferences form: the events they want by e-mail (checkboxes named `email`) and how often. */
export const preferencesSchema = z.object({
  frequency: z.enum(EMAIL_FREQUENCIES, { error: 'Choose how often e-mail may come.' }),
  email: z
    .union([z.string().max(40), z.array(z.string().max(40)).max(20)])
    .optional()
    .transform((v) => (v === undefined ? [] : Array.isArray(v) ? v : [v])),
});
export type PreferencesInput = z.infer<typeof preferencesSchema>;

/** An administrator's wording of an event (its template language is checked by `parseWording`). */
export const wordingSchema = z.object({
  subject: z.string({ error: 'Write a subject.' }).trim().min(1, 'Write a subject.').max(SUBJECT_MAX_CHARS, `At most ${SUBJECT_MAX_CHARS} characters.`),
  body: z.string({ error: 'Write the text.' }).trim().min(1, 'Write the text.').max(BODY_MAX_CHARS, `At most ${BODY_MAX_CHARS.toLocaleString('en')} characters.`),
});
export type WordingInput = z.infer<typeof wordingSchema>;
