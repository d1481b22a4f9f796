import { z } from 'zod';

/** The deep-linking form: an existing task of the course, or a new one with its title and maximum score. */
export const placementSchema = z
  .object({
    taskId: z.union([z.literal('new'), z.coerce.number({ error: 'Choose a task.' }).int().positive()]),
    title: z.string().trim().max(200, 'A title has at most 200 characters.').optional(),
    maxScore: z.coerce.number({ error: 'Enter a number.' }).positive('The maximum score must be above 0.').max(1000, 'The maximum score is at most 1000.').optional(),
  })
  .refine((c) => c.taskId !== 'new' || Boolean(c.title), { path: ['title'], message: 'Give the new task a title.' });
export type PlacementInput = z.infer<typeof placementSchema>;
