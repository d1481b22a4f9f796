import { Router } from 'express';
import type { Config } from '../config.js';
import type { RootDb } from '../db/db.js';
import { actorOf, allow, courseOf } from '../lti/actor.js';
import { renderMarkdown } from '../http/markdown.js';
import { render } from '../http/render.js';
import { studentFeedback } from '../models/assessments/feedback.service.js';
import { idParam } from './params.js';
import { formatDateTime, formatScore } from './present.js';

/** A student's feedback on their own submission, once their instructor released it. */
export function feedbackRoutes(deps: { db: RootDb; config: Pick<Config, 'encryptionKey'> }): Router {
  const router = Router();
  router.use('/student/submissions', allow('student'));

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
        criteria: f.criteria.map((c) => ({ ...c, score: formatScore(c.score), maxPoints: formatScore(c.maxPoints) })),
        commentsHtml: renderMarkdown(f.comments),
        instructorFeedbackHtml: f.instructorFeedback ? renderMarkdown(f.instructorFeedback) : null,
        releasedAt: formatDateTime(f.releasedAt),
        removedAt: f.removedAt ? formatDateTime(f.removedAt) : null,
      },
    });
  });

  return router;
}
