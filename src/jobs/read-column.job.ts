import { z } from 'zod';
import { followColumnMaximum } from '../models/tasks/column-maximum.service.js';
import { defineJob } from './job.js';
import { callLms } from './lms-call.js';

/**
 * Reads a task's gradebook column from the LMS (AGS) and follows its maximum (column-maximum.service.ts). Asked for
 * by a launch: the task's first, and any instructor's. An LMS that does not answer leaves the maximum as it was;
 * the next launch asks again.
 */
export const readColumnJob = defineJob({
  name: 'read-gradebook-column',
  payload: z.object({ taskId: z.number().int().positive() }).passthrough(),
  concurrency: 2,
  async handle({ db, logger, ags }, { taskId }) {
    await callLms(logger, 'reading the gradebook column', { taskId }, ags, async (gradebook) => {
      const outcome = await followColumnMaximum(db, gradebook, taskId);
      if (outcome.kind === 'changed') logger.info('task maximum follows its gradebook column', { taskId, from: outcome.from, to: outcome.to });
      if (outcome.kind === 'refused') logger.warn('gradebook column maximum out of range; the task keeps its own', { taskId, scoreMaximum: outcome.scoreMaximum });
    });
  },
});
