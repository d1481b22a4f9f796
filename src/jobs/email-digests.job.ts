import { z } from 'zod';
import { collectDigests } from '../models/notifications/email.service.js';
import { enqueueSoon } from '../job-queue.js';
import { defineJob } from './job.js';

/** Turns e-mail held for daily and weekly digests into one e-mail per person when theirs is due (hourly). */
export const emailDigestsJob = defineJob({
  name: 'collect-email-digests',
  payload: z.object({}).passthrough(),
  every: '1 hour',
  concurrency: 1,
  async handle({ db, logger, jobs }) {
    const totals = await collectDigests(db);
    if (totals.digests || totals.released) {
      logger.info('e-mail digests collected', totals);
      await enqueueSoon(jobs, logger, 'send-email', {});
    }
  },
});
