import { z } from 'zod';
import { DAY_PATTERN, rollupDay, yesterdayUtc } from '../models/metrics/rollup.service.js';
import { defineJob } from './job.js';

/**
 * Rolls up a day's metrics (src/models/metrics/rollup.service.ts): yesterday (UTC) on the daily run, or the day a
 * payload names (a backfill). Idempotent: a day is replaced, never added to.
 */
export const metricsRollupJob = defineJob({
  name: 'rollup-daily-metrics',
  payload: z.object({ day: z.string().regex(DAY_PATTERN, 'a day is YYYY-MM-DD').optional() }).passthrough(),
  every: '1 day',
  async handle({ db, logger }, payload) {
    const day = payload.day ?? yesterdayUtc();
    const rows = await db.transaction((tx) => rollupDay(tx, day));
    logger.info('daily metrics rolled up', { day, rows });
  },
});
