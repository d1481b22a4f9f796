import { z } from 'zod';

const once = { error: 'must be given once, as text' };

/** `/launch/:login` query: which task (1-based or "nav"), which message, optionally which tool or link. */
export const launchQuerySchema = z.strictObject({
  task: z
    .string(once)
    .regex(/^(nav|[1-9]\d{0,3})$/, 'must be a task number (1, 2, …) or "nav"')
    .transform((v): number | 'nav' => (v === 'nav' ? 'nav' : Number(v)))
    .optional(),
  message: z.enum(['resource_link', 'deep_linking'], { error: 'must be "resource_link" or "deep_linking"' }).default('resource_link'),
  client: z.string(once).min(1).optional(),
  link: z.string(once).min(1).optional(),
});
export type LaunchQuery = z.infer<typeof launchQuerySchema>;
