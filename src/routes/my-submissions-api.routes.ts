import { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import type { Config } from '../config.js';
import type { RootDb } from '../db/db.js';
import { actorOf, allow, courseOf } from '../lti/actor.js';
import { linkWith } from '../http/render.js';
import { studentSubmissionStatuses, type StudentSubmissionStatus } from '../models/submissions/status.service.js';
import { studentEscalation } from '../models/escalation/escalation.service.js';
import { findTaskInCourse } from '../models/tasks/tasks.repository.js';
import { NotFound } from '../errors.js';
import { parseInput } from '../validation.js';
import { withDeps } from './handlers.js';

/**
 * A student's own submissions as JSON, for the LMS mobile apps and anything else that shows where work stands:
 * the fields of the assessment status (status, queuePosition, estimatedCompletion, batchId, progressMessage,
 * canEscalate) per attempt, the whole course or one task (`?task=<id>`). Only the caller's own work, ever.
 * `canEscalate` is the seed's: this attempt may be graded now through the real-time API at the student's request
 * (the course offers it, requests are left this month, the work still waits in the queue); `priorityGrading` says
 * how many are left.
 */
export interface MySubmissionsDeps {
  db: RootDb;
  config: Pick<Config, 'batches'>;
}

const querySchema = z.object({ task: z.coerce.number({ error: 'task must be a task id.' }).int('task must be a task id.').positive('task must be a task id.').optional() });

export function mySubmissionsApiRoutes(deps: MySubmissionsDeps): Router {
  const on = withDeps(deps);
  const router = Router();
  router.get('/api/my/submissions/', allow('student'), on(listMine));
  return router;
}

async function listMine(deps: MySubmissionsDeps, req: Request, res: Response): Promise<void> {
  const actor = actorOf(res);
  const { task } = parseInput(querySchema, req.query);
  if (task !== undefined && !(await findTaskInCourse(deps.db, courseOf(actor), task))) throw NotFound('The task');
  const statuses = await studentSubmissionStatuses(deps.db, task === undefined ? { courseId: courseOf(actor) } : { taskId: task }, actor.userId, deps.config.batches.maxSize);
  const escalation = await studentEscalation(deps.db, { platformId: actor.platformId, courseId: courseOf(actor) }, actor.userId);
  const link = linkWith(undefined);
  res.json({
    submissions: statuses.map((s) => statusJson(s, link, escalation.allowed && escalation.left > 0)),
    priorityGrading: escalation.allowed ? { left: escalation.left, limit: escalation.limit } : null,
  });
}

/** One attempt as the API answers it. */
export function statusJson(s: StudentSubmissionStatus, link: (path: string) => string, mayEscalate: boolean) {
  return {
    submissionId: s.submissionId,
    taskId: s.taskId,
    taskTitle: s.taskTitle,
    attempt: s.attempt,
    submittedAt: s.submittedAt.toISOString(),
    late: s.late,
    status: s.status,
    queuePosition: s.position,
    estimatedCompletion: s.eta?.toISOString() ?? null,
    batchId: s.batchId,
    progressMessage: progressMessage(s),
    canEscalate: mayEscalate && s.status === 'queued',
    feedbackReleased: s.feedbackReleased,
    feedbackUrl: s.feedbackReleased ? link(`/student/submissions/${s.submissionId}/feedback`) : null,
    score: s.score,
  };
}

/** One sentence a small screen can show as is. */
function progressMessage(s: StudentSubmissionStatus): string {
  const parts = [s.statusLabel + '.'];
  if (s.position) parts.push(`Position ${s.position} in the grading queue.`);
  if (s.etaLabel) parts.push(`Expected to be graded ${s.etaLabel} (estimate).`);
  if (s.status === 'completed' && s.feedbackReleased) parts.push('Your feedback is ready.');
  if (s.detail) parts.push(s.detail);
  return parts.join(' ');
}
