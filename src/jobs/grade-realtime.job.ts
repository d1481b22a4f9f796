import { z } from 'zod';
import { providerSet } from '../providers/index.js';
import { realtimeWork, runRealtimeGrading, type RealtimeWorker } from '../models/escalation/realtime-grading.service.js';
import { defineJob, type JobDeps } from './job.js';

function realtimeWorker(deps: JobDeps): RealtimeWorker {
  if (!deps.config || !deps.provider) throw new Error('real-time grading needs config and provider in its JobDeps');
  return { db: deps.db, providers: deps.providers ?? providerSet([deps.provider]), encryptionKey: deps.config.encryptionKey, logger: deps.logger };
}

/**
 * Real-time gradings (models/escalation/): one request, enqueued after the commit that asked for it (a student's
 * priority request, an instructor's "grade now", a submission to a real-time-only course), or, every 30 seconds,
 * whatever is due without a job — real-time-only work waiting in the queue (back after a failure or a refusal, or
 * queued again), and requests whose job was lost or whose worker died. Idempotent: a request is claimed once.
 */
export const gradeRealtimeJob = defineJob({
  name: 'grade-realtime',
  payload: z.object({ requestId: z.number().int().positive().optional() }).passthrough(),
  every: '30 seconds',
  concurrency: 4,
  async handle(deps, payload) {
    const w = realtimeWorker(deps);
    if (payload.requestId) {
      await runRealtimeGrading(w, payload.requestId);
      return;
    }
    const due = await realtimeWork(deps.db);
    if (due.length) deps.logger.info('real-time gradings to run', { count: due.length });
    // Each as its own job where a runner exists (they run side by side, each retried on its own), else here.
    for (const requestId of due) {
      if (deps.jobs) await deps.jobs.enqueue('grade-realtime', { requestId });
      else await runRealtimeGrading(w, requestId);
    }
  },
});
