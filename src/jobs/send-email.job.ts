import { z } from 'zod';
import { DEFAULT_SEND_SETTINGS, sendDueEmail } from '../models/notifications/email.service.js';
import { defineJob } from './job.js';

/**
 * Sends the e-mail notices owe (src/models/notifications/email.service.ts): enqueued after a commit that wrote
 * some, and every 30 seconds for retries and anything an enqueue missed. One run at a time per worker; workers
 * share the rows through claims, so a doubled run sends nothing twice.
 */
export const sendEmailJob = defineJob({
  name: 'send-email',
  payload: z.object({}).passthrough(),
  every: '30 seconds',
  concurrency: 1,
  async handle({ db, logger, config, mailer }) {
    const outcome = await sendDueEmail(db, mailer ?? null, { ...DEFAULT_SEND_SETTINGS, maxAttempts: config?.mail.maxAttempts ?? 6 });
    if (outcome.sent || outcome.retried || outcome.failed || outcome.bounced) logger.info('e-mail sent', { ...outcome });
    if (outcome.failed || outcome.bounced) logger.warn('e-mail refused', { failed: outcome.failed, bounced: outcome.bounced });
  },
});
