import { z } from 'zod';
import { syncRoster } from '../models/tenancy/roster.service.js';
import { defineJob } from './job.js';
import { callLms } from './lms-call.js';

/**
 * Reads a course's roster from the LMS (LTI NRPS: every page) and keeps it (roster.service.ts). Asked for by a staff
 * launch when the course's copy is missing or older than an hour. An LMS that does not answer leaves the copy as it
 * was; the next staff launch asks again.
 */
export const syncRosterJob = defineJob({
  name: 'sync-roster',
  payload: z.object({ courseId: z.number().int().positive() }).passthrough(),
  concurrency: 2,
  async handle({ db, logger, roster }, { courseId }) {
    await callLms(logger, 'reading the course roster', { courseId }, roster, async (client) => {
      const outcome = await db.transaction((tx) => syncRoster(tx, client, courseId));
      if (outcome.kind === 'synced') logger.info('course roster read', { courseId, members: outcome.members, active: outcome.active, inactive: outcome.inactive });
    });
  },
});
