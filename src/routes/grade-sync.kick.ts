import type { JobDeps } from '../jobs/job.js';
import { gradeSyncJob } from '../jobs/grade-sync.job.js';
import type { Logger } from '../log.js';

export interface KickDeps {
  logger: Logger;
  enqueue?: JobDeps['enqueue'];
}

/**
 * Asks a worker to send a decision's grade now instead of at the next sweep. Best effort, after the decision's
 * transaction committed: the decision already made the sync pending, so if this fails the sweep still sends it.
 */
export async function kickGradeSync(deps: KickDeps, assessmentId?: number): Promise<void> {
  if (!deps.enqueue) return;
  try {
    await deps.enqueue(gradeSyncJob, assessmentId ? { assessmentId } : {});
  } catch (err) {
    deps.logger.warn('could not enqueue a grade sync; the recurring sweep will send it', { err, assessmentId });
  }
}
