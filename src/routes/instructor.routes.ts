import { Router } from 'express';
import type { RootDb } from '../db/db.js';
import { actorOf, allow, courseOf } from '../lti/actor.js';
import { NotFound } from '../errors.js';
import { render } from '../http/render.js';
import { listTaskSummaries } from '../models/tasks/tasks.repository.js';
import { getCoursePrivacy } from '../models/privacy/privacy.repository.js';
import { idParam } from './params.js';
import { findRosterSource, studentsWithoutSubmission, type RosterSource } from '../models/tenancy/roster.repository.js';
import { formatDateTime, formatScore, taskTypeLabel } from './present.js';

/** An instructor's pages for the course they launched from. */
export function instructorRoutes(deps: { db: RootDb }): Router {
  const router = Router();
  router.use('/instructor', allow('instructor'));

  router.get('/instructor', async (req, res) => {
    const tasks = await listTaskSummaries(deps.db, courseOf(actorOf(res)));
    render(req, res, 'pages/instructor/home', {
      title: 'Tasks',
      tasks: tasks.map((t) => ({
        id: t.id,
        title: t.title,
        typeLabel: taskTypeLabel(t.taskType),
        maxScore: formatScore(t.maxScore),
        promptStatus: t.hasActivePrompt ? 'ready' : 'not written yet',
        submissionCount: t.submissionCount,
      })),
    });
  });

  router.get('/instructor/tasks/:taskId', async (req, res) => {
    const taskId = idParam(req.params.taskId, 'The task');
    const courseId = courseOf(actorOf(res));
    const task = (await listTaskSummaries(deps.db, courseId)).find((t) => t.id === taskId);
    if (!task) throw NotFound('The task');
    const [{ llmAllowed }, missing, source] = await Promise.all([getCoursePrivacy(deps.db, courseId), studentsWithoutSubmission(deps.db, courseId, taskId), findRosterSource(deps.db, courseId)]);
    render(req, res, 'pages/instructor/task', {
      title: task.title,
      llmAllowed,
      roster: { missing, source: rosterSourceLabel(source) },
      task: {
        title: task.title,
        description: task.description,
        typeLabel: taskTypeLabel(task.taskType),
        maxScore: formatScore(task.maxScore),
        releaseLabel: task.releasePolicy === 'immediately' ? 'immediately after grading' : 'after your approval',
        maxAttempts: task.maxAttempts,
        lineItemUrl: task.lineItemUrl,
        submissionCount: task.submissionCount,
        promptStatus: task.hasActivePrompt ? 'A grading prompt is active.' : 'No grading prompt yet: students cannot be graded until you write one.',
      },
    });
  });

  return router;
}

/** Where the list of students comes from, so an instructor knows how complete it is. */
function rosterSourceLabel(source: RosterSource | undefined): string {
  if (source?.rosterSyncedAt) return `From the LMS course roster, read ${formatDateTime(source.rosterSyncedAt)}, and everyone who opened the task since.`;
  if (source?.membershipsUrl) return 'The LMS course roster is being read; until then the list holds the students who have opened the tool.';
  return 'Your LMS does not share the course roster with the tool (LTI Names and Role Provisioning), so the list holds the students who have opened the tool.';
}
