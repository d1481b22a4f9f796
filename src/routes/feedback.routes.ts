import { Router } from 'express';
import type { Config } from '../config.js';
import type { RootDb } from '../db/db.js';
import { actorOf, allow, courseOf } from '../lti/actor.js';
import { renderMarkdown } from '../http/markdown.js';
import { render } from '../http/render.js';
import { studentFeedback, studentWork } from '../models/assessments/feedback.service.js';
import { findTaskInCourse } from '../models/tasks/tasks.repository.js';
import { idParam } from './params.js';
import { formatDateTime, formatScore } from './present.js';

/** A student's feedback on their own submission, once their instructor released it. */
export function feedbackRoutes(deps: { db: RootDb; config: Pick<Config, 'encryptionKey'> }): Router {
  const router = Router();
  router.use('/student/submissions', allow('student'));

  router.get('/student/submissions/:submissionId', async (req, res) => {
    const actor = actorOf(res);
    const w = await studentWork(deps.db, { courseId: courseOf(actor), studentId: actor.userId }, idParam(req.params.submissionId, 'The submission'), deps.config);
    const task = await findTaskInCourse(deps.db, courseOf(actor), w.taskId);
    render(req, res, 'pages/student/work', {
      title: `Attempt ${w.attempt}: ${task?.title ?? 'task'}`,
      w: { ...w, taskTitle: task?.title ?? 'Task', submittedAt: formatDateTime(w.submittedAt), submittedAtIso: w.submittedAt.toISOString(), removedAt: w.removedAt ? formatDateTime(w.removedAt) : null },
    });
  });

  router.get('/student/submissions/:submissionId/feedback', async (req, res) => {
    const actor = actorOf(res);
    const f = await studentFeedback(deps.db, { courseId: courseOf(actor), studentId: actor.userId }, idParam(req.params.submissionId, 'The feedback'), deps.config);
    render(req, res, 'pages/student/feedback', {
      title: `Feedback: ${f.taskTitle}`,
      f: {
        ...f,
        score: formatScore(f.score),
        maxScore: formatScore(f.maxScore),
        gradebook: f.gradebook && { score: formatScore(f.gradebook.score), maxScore: formatScore(f.gradebook.maxScore) },
        criteria: f.criteria.map((c) => ({ ...c, score: formatScore(c.score), maxPoints: formatScore(c.maxPoints), modelScore: c.modelScore == null ? null : formatScore(c.modelScore) })),
        overallChangedFrom: f.overallChangedFrom == null ? null : formatScore(f.overallChangedFrom),
        modelScore: f.modelScore == null ? null : formatScore(f.modelScore),
        releasedAtIso: f.releasedAt.toISOString(),
        commentsHtml: renderMarkdown(f.comments),
        instructorFeedbackHtml: f.instructorFeedback ? renderMarkdown(f.instructorFeedback) : null,
        releasedAt: formatDateTime(f.releasedAt),
        removedAt: f.removedAt ? formatDateTime(f.removedAt) : null,
      },
    });
  });

  return router;
}
