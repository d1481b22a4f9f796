import { z } from 'zod';
import { STATE_COOKIE_MAX_AGE_MS } from '../lti/login.js';
import { purgeExpiredLtiStates } from '../models/tenancy/nonces.repository.js';
import { defineJob } from './job.js';

/** Every minute: a state row outlives its cookie by at most about a minute (ltijs' own sweep is hourly). */
export const purgeLtiStatesJob = defineJob({
  name: 'purge-expired-lti-states',
  payload: z.object({}).passthrough(),
  every: '1 minute',
  async handle({ db, logger }) {
    const removed = await purgeExpiredLtiStates(db, STATE_COOKIE_MAX_AGE_MS);
    if (removed) logger.debug('purged expired LTI login states', { removed });
  },
});
