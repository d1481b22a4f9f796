import { z } from 'zod';
import { runGradeSync } from '../models/grades/grade-sync.service.js';
import { defineJob } from './job.js';

/**
 * Grade passback (AGS) from the background: approved and overridden grades go to the LMS gradebook, failed
 * posts are retried with backoff. Decisions only mark a sync pending (in their own transaction), so nothing is
 * lost when no worker runs; this job, every few seconds or for one assessment, does the sending.
 */
export const gradeSyncJob = defineJob({
  name: 'sync-grades',
  payload: z.object({ assessmentId: z.number().int().positive().optional() }).passthrough(),
  every: '15 seconds',
  concurrency: 1,
  async handle({ db, logger, config, ags }, payload) {
    if (!ags || !config) {
      logger.warn('grade sync skipped: this runner has no gradebook client');
      return;
    }
    const result = await runGradeSync(db, ags, config.gradeSync, logger, { assessmentId: payload.assessmentId });
    if (result.synced.length || result.retrying.length || result.failed.length) logger.info('grade sync', { synced: result.synced.length, retrying: result.retrying.length, failed: result.failed.length });
  },
});
