import { z } from 'zod';
import { ESCALATION_POLICIES, MAX_ESCALATION_LIMIT, PROVIDERS } from './privacy.table.js';

/** What the course privacy form sends. */

/** An HTML checkbox: present ("on") when ticked, absent when not. */
const checkbox = z
  .enum(['on', 'true', '1', '', 'false', '0'], { error: 'must be a checkbox value' })
  .optional()
  .transform((v) => v === 'on' || v === 'true' || v === '1');

/** Whole days from 1 to 3650, or empty (null): `emptyMeans` says what empty does, in the message. */
const days = (emptyMeans: string) =>
  z
    .string()
    .trim()
    .optional()
    .transform((v, ctx) => {
      if (!v) return null;
      const n = Number(v);
      if (!Number.isInteger(n) || n < 1 || n > 3650) {
        ctx.addIssue({ code: 'custom', message: `Enter whole days from 1 to 3650, or leave empty ${emptyMeans}.` });
        return z.NEVER;
      }
      return n;
    });

/** A whole number of priority requests from `min` to MAX_ESCALATION_LIMIT; absent or empty keeps the saved value. */
const requests = (min: number) =>
  z
    .string()
    .trim()
    .optional()
    .transform((v, ctx) => {
      if (!v) return undefined;
      const n = Number(v);
      if (!Number.isInteger(n) || n < min || n > MAX_ESCALATION_LIMIT) {
        ctx.addIssue({ code: 'custom', message: `Enter a whole number from ${min} to ${MAX_ESCALATION_LIMIT}.` });
        return z.NEVER;
      }
      return n;
    });

/** Checkboxes named alike: absent (none ticked), one value, or several; each a known provider. */
const providers = z
  .union([z.string(), z.array(z.string())])
  .optional()
  .transform((v) => (v === undefined ? [] : Array.isArray(v) ? v : [v]))
  .pipe(z.array(z.enum(PROVIDERS, { message: 'Choose providers from the list.' })).transform((list) => [...new Set(list)]));

export const privacyForm = z
  .object({
    llmAllowed: checkbox,
    anonymize: checkbox,
    consentRequired: checkbox,
    retentionDays: days('to keep submissions'),
    approvedProviders: providers,
    /** The form's marker that it showed the provider boxes: without it (an older form, a script), they are kept. */
    providersShown: z.literal('1', { message: 'The form was changed: reload the page.' }).optional(),
    realtimeOnly: checkbox,
    /** Who may have work graded now through the real-time API; absent (an older form, a script): kept. */
    escalation: z.enum(ESCALATION_POLICIES, { message: 'Choose who may ask for grading now.' }).optional(),
    escalationLimit: requests(1),
  })
  .transform(({ providersShown, approvedProviders, ...rest }) => ({
    ...rest,
    approvedProviders: providersShown || approvedProviders.length ? approvedProviders : undefined,
  }))
  .refine((v) => v.approvedProviders === undefined || v.approvedProviders.length > 0, {
    message: 'Approve at least one provider (only its batches may carry this course\'s work).',
    path: ['approvedProviders'],
  });
export type PrivacyInput = z.output<typeof privacyForm>;

/** What the platform privacy form (administrators) sends. */
export const platformPrivacyForm = z
  .object({
    allowedProviders: providers.refine((list) => list.length > 0, 'Allow at least one provider, or turn LLM assessment off in the courses instead.'),
    maxRetentionDays: days('for no limit'),
    defaultRetentionDays: days('to keep submissions in new courses'),
    defaultAnonymize: checkbox,
    defaultConsentRequired: checkbox,
    maxStudentEscalations: requests(0),
  })
  .refine((v) => v.maxRetentionDays === null || (v.defaultRetentionDays !== null && v.defaultRetentionDays <= v.maxRetentionDays), {
    message: 'New courses must start within the longest retention allowed.',
    path: ['defaultRetentionDays'],
  });
export type PlatformPrivacyInput = z.output<typeof platformPrivacyForm>;
