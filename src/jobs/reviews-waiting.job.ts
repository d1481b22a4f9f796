import { z } from 'zod';
import { notifyReviewsWaiting } from '../models/notifications/notices.service.js';
import { defineJob } from './job.js';
import { enqueueSoon } from '../job-queue.js';

/**
 * Tells each instructor, at most once a day per course, how many results wait for their review (a digest, never a
 * notice per result). Runs hourly; the day in its key makes a second run that day add nothing.
 */
export const reviewsWaitingJob = defineJob({
  name: 'notify-reviews-waiting',
  payload: z.object({}).passthrough(),
  every: '1 hour',
  async handle({ db, logger, jobs }) {
    const sent = await db.transaction((tx) => notifyReviewsWaiting(tx, new Date().toISOString().slice(0, 10)));
    if (sent.notices) logger.info('reviews-waiting notices sent', sent);
    if (sent.emails) await enqueueSoon(jobs, logger, 'send-email', {});
  },
});
