import { z } from 'zod';
import { notifyReviewsWaiting } from '../models/notifications/notifications.repository.js';
import { defineJob } from './job.js';

/**
 * Tells each instructor, at most once a day per course, how many results wait for their review (a digest, never a
 * notice per result). Runs hourly; the day in its key makes a second run that day add nothing.
 */
export const reviewsWaitingJob = defineJob({
  name: 'notify-reviews-waiting',
  payload: z.object({}).passthrough(),
  every: '1 hour',
  async handle({ db, logger }) {
    const sent = await notifyReviewsWaiting(db, new Date().toISOString().slice(0, 10));
    if (sent) logger.info('reviews-waiting notices sent', { sent });
  },
});
