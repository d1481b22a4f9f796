import { z } from 'zod';
import { applyRetention } from '../models/privacy/retention.service.js';
import { carryOutErasures } from '../models/privacy/person-data.service.js';
import { defineJob } from './job.js';

/**
 * The privacy job, daily and whenever an administrator schedules an erasure: the people whose data is to be deleted
 * (src/models/privacy/person-data.service.ts), then every course's retention policy (retention.service.ts).
 */
export const retentionJob = defineJob({
  name: 'apply-retention',
  payload: z.object({}).passthrough(),
  every: '1 day',
  async handle({ db, logger }) {
    const erasures = await carryOutErasures(db);
    if (erasures.completed || erasures.waiting) logger.info('person erasures', { ...erasures });
    const run = await applyRetention(db);
    if (run.submissions) logger.info('retention: content removed', { submissions: run.submissions, assessments: run.assessments, courses: run.courses.size });
  },
});
