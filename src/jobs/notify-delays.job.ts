import { z } from 'zod';
import { notifyDelays } from '../models/notifications/notices.service.js';
import { enqueueSoon } from '../job-queue.js';
import { defineJob } from './job.js';

/** Tells students whose expected feedback time has passed the new estimate (every 15 minutes; once per missed estimate). */
export const notifyDelaysJob = defineJob({
  name: 'notify-delays',
  payload: z.object({}).passthrough(),
  every: '15 minutes',
  concurrency: 1,
  async handle({ db, logger, jobs, config }) {
    const sent = await db.transaction((tx) => notifyDelays(tx, config?.batches.minSize ?? 10));
    if (sent.notices) logger.info('delay notices sent', sent);
    if (sent.emails) await enqueueSoon(jobs, logger, 'send-email', {});
  },
});
