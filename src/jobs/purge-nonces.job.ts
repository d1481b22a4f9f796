import { z } from 'zod';
import { purgeExpiredNonces } from '../models/tenancy/nonces.repository.js';
import { defineJob } from './job.js';

/** Forgets launch nonces once no token carrying them could be accepted any more. */
export const purgeNoncesJob = defineJob({
  name: 'purge-expired-nonces',
  payload: z.object({}).passthrough(),
  every: '1 hour',
  async handle({ db, logger }) {
    const removed = await purgeExpiredNonces(db);
    if (removed) logger.debug('purged expired launch nonces', { removed });
  },
});
