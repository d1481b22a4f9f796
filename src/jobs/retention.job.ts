import { z } from 'zod';
import { applyRetention } from '../models/privacy/retention.service.js';
import { defineJob } from './job.js';

/** Once a day, every course's retention policy: content past it is erased (src/models/privacy/retention.service.ts). */
export const retentionJob = defineJob({
  name: 'apply-retention',
  payload: z.object({}).passthrough(),
  every: '1 day',
  async handle({ db, logger }) {
    const run = await applyRetention(db);
    if (run.submissions) logger.info('retention: content removed', { submissions: run.submissions, assessments: run.assessments, courses: run.courses.size });
  },
});
