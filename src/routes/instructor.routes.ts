import { Router } from 'express';
import type { RootDb } from '../db/db.js';
import { actorOf, allow, courseOf } from '../lti/actor.js';
import { NotFound } from '../errors.js';
import { render } from '../http/render.js';
import { listTaskSummaries } from '../models/tasks/tasks.repository.js';
import { getCoursePrivacy } from '../models/privacy/privacy.repository.js';
import { idParam } from './params.js';
import { formatScore, taskTypeLabel } from './present.js';

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
    const { llmAllowed } = await getCoursePrivacy(deps.db, courseId);
    render(req, res, 'pages/instructor/task', {
      title: task.title,
      llmAllowed,
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
