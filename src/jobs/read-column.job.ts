import { z } from 'zod';
import { AgsError } from '../models/grades/gradebook.js';
import { followColumnMaximum } from '../models/tasks/column-maximum.service.js';
import { defineJob } from './job.js';

/**
 * Reads a task's gradebook column from the LMS (AGS) and follows its maximum (column-maximum.service.ts). Asked for
 * by a launch: the task's first, and any instructor's. An LMS that does not answer leaves the maximum as it was;
 * the next launch asks again.
 */
export const readColumnJob = defineJob({
  name: 'read-gradebook-column',
  payload: z.object({ taskId: z.number().int().positive() }).passthrough(),
  concurrency: 2,
  async handle({ db, logger, ags }, payload) {
    if (!ags) {
      logger.warn('gradebook column not read: this runner has no gradebook client', { taskId: payload.taskId });
      return;
    }
    try {
      const outcome = await followColumnMaximum(db, ags, payload.taskId);
      if (outcome.kind === 'changed') logger.info('task maximum follows its gradebook column', { taskId: payload.taskId, from: outcome.from, to: outcome.to });
      if (outcome.kind === 'refused') logger.warn('gradebook column maximum out of range; the task keeps its own', { taskId: payload.taskId, scoreMaximum: outcome.scoreMaximum });
    } catch (err) {
      if (!(err instanceof AgsError)) throw err;
      logger.warn('could not read the gradebook column', { taskId: payload.taskId, status: err.status, message: err.message });
    }
  },
});
