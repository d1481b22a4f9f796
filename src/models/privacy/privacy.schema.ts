import { z } from 'zod';

/** What the course privacy form sends. */

/** An HTML checkbox: present ("on") when ticked, absent when not. */
const checkbox = z
  .enum(['on', 'true', '1', '', 'false', '0'], { error: 'must be a checkbox value' })
  .optional()
  .transform((v) => v === 'on' || v === 'true' || v === '1');

export const privacyForm = z.object({
  llmAllowed: checkbox,
  anonymize: checkbox,
  consentRequired: checkbox,
  retentionDays: z
    .string()
    .trim()
    .optional()
    .transform((v, ctx) => {
      if (!v) return null;
      const n = Number(v);
      if (!Number.isInteger(n) || n < 1 || n > 3650) {
        ctx.addIssue({ code: 'custom', message: 'Enter whole days from 1 to 3650, or leave empty to keep submissions.' });
        return z.NEVER;
      }
      return n;
    }),
});
export type PrivacyInput = z.output<typeof privacyForm>;
