import { sql } from 'drizzle-orm';
import { z } from 'zod';
import type { Db } from '../db/db.js';
import { STATE_COOKIE_MAX_AGE_MS } from '../lti/login.js';
import { defineJob } from './job.js';

/**
 * Deletes ltijs login states nobody can use any more. Our login initiation stores a row in ltijs-sequelize's
 * `states` table (columns `state`, `query`, `createdAt`) whenever the launch target carries query parameters, and
 * the launch deletes it; a login that never comes back leaves it behind. Once the browser has dropped the state
 * cookie (STATE_COOKIE_MAX_AGE_MS) no launch can match the row, yet ltijs-sequelize only sweeps hourly, so a login
 * flood would pile rows up for an hour. Returns how many rows went.
 */
export async function purgeExpiredLtiStates(db: Db, maxAgeMs: number = STATE_COOKIE_MAX_AGE_MS): Promise<number> {
  const result = await db.execute(sql`delete from states where "createdAt" < now() - make_interval(secs => ${maxAgeMs / 1000})`);
  return result.rowCount ?? 0;
}

/** Every minute: a state row outlives its cookie by at most about a minute (ltijs' own sweep is hourly). */
export const purgeLtiStatesJob = defineJob({
  name: 'purge-expired-lti-states',
  payload: z.object({}).passthrough(),
  every: '1 minute',
  async handle({ db, logger }) {
    const removed = await purgeExpiredLtiStates(db);
    if (removed) logger.debug('purged expired LTI login states', { removed });
  },
});
