import { z } from 'zod';
import { AgsError } from '../models/grades/gradebook.js';
import { syncRoster } from '../models/tenancy/roster.service.js';
import { defineJob } from './job.js';

/**
 * Reads a course's roster from the LMS (LTI NRPS: every page) and keeps it (roster.service.ts). Asked for by a staff
 * launch when the course's copy is missing or older than an hour. An LMS that does not answer leaves the copy as it
 * was; the next staff launch asks again.
 */
export const syncRosterJob = defineJob({
  name: 'sync-roster',
  payload: z.object({ courseId: z.number().int().positive() }).passthrough(),
  concurrency: 2,
  async handle({ db, logger, roster }, payload) {
    if (!roster) {
      logger.warn('roster not read: this runner has no roster client', { courseId: payload.courseId });
      return;
    }
    try {
      const outcome = await db.transaction((tx) => syncRoster(tx, roster, payload.courseId));
      if (outcome.kind === 'synced') logger.info('course roster read', { courseId: payload.courseId, members: outcome.members, active: outcome.active, inactive: outcome.inactive });
    } catch (err) {
      if (!(err instanceof AgsError)) throw err;
      logger.warn('could not read the course roster', { courseId: payload.courseId, status: err.status, message: err.message });
    }
  },
});
