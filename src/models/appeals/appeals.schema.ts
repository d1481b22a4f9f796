import { z } from 'zod';

/** A student's appeal: why they think the result is wrong. */
export const appealSchema = z.object({
  reason: z.string({ error: 'Say why you appeal this result.' }).trim().min(10, 'Say why you appeal this result (at least 10 characters).').max(2000, 'The reason has at most 2,000 characters.'),
});
export type AppealInput = z.output<typeof appealSchema>;

/** The instructor's answer: uphold the result or change it (then with the new grade, as an override takes it), with a reply. */
export const appealResolutionSchema = z.object({
  outcome: z.enum(['uphold', 'change'], { error: 'Choose: keep the result, or change the grade.' }),
  reply: z.string({ error: 'Reply to the student.' }).trim().min(1, 'Reply to the student: they read it with the outcome.').max(5000, 'The reply has at most 5,000 characters.'),
});
export type AppealResolutionInput = z.output<typeof appealResolutionSchema>;
