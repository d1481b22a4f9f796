import { Router } from 'express';
import { and, asc, eq } from 'drizzle-orm';
import type { RootDb } from '../db/db.js';
import { actorOf, allow, courseOf } from '../lti/actor.js';
import { NotFound } from '../http/errors.js';
import { render } from '../http/render.js';
import { findTaskInCourse, listTaskSummaries } from '../models/tasks/tasks.repository.js';
import { submissions } from '../models/submissions/submissions.table.js';
import { idParam } from './params.js';
import { formatDateTime, formatScore, taskTypeLabel } from './present.js';

/** A student's pages: their course's tasks and their own work. Never anyone else's. */
export function studentRoutes(deps: { db: RootDb }): Router {
  const router = Router();
  router.use('/student', allow('student'));

  router.get('/student', async (_req, res) => {
    const actor = actorOf(res);
    const tasks = await listTaskSummaries(deps.db, courseOf(actor), actor.userId);
    render(_req, res, 'pages/student/home', {
      title: 'Your tasks',
      tasks: tasks.map((t) => ({ id: t.id, title: t.title, typeLabel: taskTypeLabel(t.taskType), maxScore: formatScore(t.maxScore), submissionCount: t.submissionCount })),
    });
  });

  router.get('/student/tasks/:taskId', async (req, res) => {
    const actor = actorOf(res);
    const task = await findTaskInCourse(deps.db, courseOf(actor), idParam(req.params.taskId, 'The task'));
    if (!task || task.status !== 'active') throw NotFound('The task');
    const mine = await deps.db
      .select({ attempt: submissions.attempt, submittedAt: submissions.submittedAt })
      .from(submissions)
      .where(and(eq(submissions.taskId, task.id), eq(submissions.studentId, actor.userId)))
      .orderBy(asc(submissions.attempt));
    render(req, res, 'pages/student/task', {
      title: task.title,
      task: {
        title: task.title,
        description: task.description,
        typeLabel: taskTypeLabel(task.taskType),
        maxScore: formatScore(task.maxScore),
        attemptsLabel: task.maxAttempts === 1 ? 'one attempt' : `up to ${task.maxAttempts} attempts`,
      },
      submissions: mine.map((s) => ({ attempt: s.attempt, submittedAt: formatDateTime(s.submittedAt), submittedAtIso: s.submittedAt.toISOString(), status: 'submitted' })),
    });
  });

  return router;
}
