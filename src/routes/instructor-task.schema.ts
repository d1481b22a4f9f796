import { z } from 'zod';
import { PROGRESS_STATUSES } from '../models/tasks/task-progress.service.js';

/** The instructor's task view: a status filter and a name search (anything else is ignored, not refused). */
export const taskViewQuerySchema = z.object({
  status: z.enum(PROGRESS_STATUSES).optional().catch(undefined),
  q: z.string().max(200).optional().catch(undefined),
});
export type TaskViewQuery = z.infer<typeof taskViewQuerySchema>;

/** "Grade now": one submission (its row's button) or all of the task's waiting work. */
export const gradeNowSchema = z.object({
  submissionId: z.union([z.literal(''), z.coerce.number({ error: 'Choose the work to grade first.' }).int().positive()]).optional(),
});
