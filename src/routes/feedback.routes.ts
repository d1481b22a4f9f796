import { Router, type Request, type Response } from 'express';
import type { Config } from '../config.js';
import type { RootDb } from '../db/db.js';
import { actorOf, allow, courseOf } from '../lti/actor.js';
import { renderMarkdown } from '../http/markdown.js';
import { linkWith, render } from '../http/render.js';
import { HttpError } from '../errors.js';
import { appealSchema } from '../models/appeals/appeals.schema.js';
import { appealResult } from '../models/appeals/appeals.service.js';
import { findAppealOfSubmission } from '../models/appeals/appeals.repository.js';
import { parseInput } from '../validation.js';
import { formText } from './form.js';
import { presentAppeal } from './review.present.js';
import { findRatingOfSubmission } from '../models/metrics/ratings.repository.js';
import { rateFeedbackTiming, ratingSchema } from '../models/metrics/ratings.service.js';
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
    await showFeedback(deps, req, res, EMPTY_FORM);
  });

  router.post('/student/submissions/:submissionId/appeal', async (req, res) => {
    const actor = actorOf(res);
    const submissionId = idParam(req.params.submissionId, 'The feedback');
    try {
      const input = parseInput(appealSchema, req.body ?? {});
      await deps.db.transaction((tx) => appealResult(tx, { platformId: actor.platformId, courseId: courseOf(actor), studentId: actor.userId }, submissionId, input));
    } catch (err) {
      // The form again with the reason typed and why it was refused (422 bad reason, 409 appealed already).
      if (err instanceof HttpError && (err.status === 422 || err.status === 409)) {
        return showFeedback(deps, req, res, { values: { reason: formText(req.body, 'reason') }, fields: err.fields ?? {}, message: err.message }, err.status);
      }
      throw err;
    }
    if (req.get('HX-Request') !== 'true') return res.redirect(303, linkWith(actor.ltik)(`/student/submissions/${submissionId}/feedback`));
    await showFeedback(deps, req, res, { values: {}, fields: {}, message: 'Your appeal was sent to your instructor.' }, 201);
  });

  router.post('/student/submissions/:submissionId/rating', async (req, res) => {
    const actor = actorOf(res);
    const submissionId = idParam(req.params.submissionId, 'The feedback');
    try {
      const input = parseInput(ratingSchema, req.body ?? {});
      await deps.db.transaction((tx) => rateFeedbackTiming(tx, { platformId: actor.platformId, courseId: courseOf(actor), studentId: actor.userId }, submissionId, input));
    } catch (err) {
      if (err instanceof HttpError && (err.status === 422 || err.status === 409)) {
        const typed = { rating: formText(req.body, 'rating'), comment: formText(req.body, 'comment') };
        return showFeedback(deps, req, res, EMPTY_FORM, err.status, { values: typed, fields: err.fields ?? {}, message: err.message });
      }
      throw err;
    }
    if (req.get('HX-Request') !== 'true') return res.redirect(303, linkWith(actor.ltik)(`/student/submissions/${submissionId}/feedback`));
    await showFeedback(deps, req, res, EMPTY_FORM, 201, { values: {}, fields: {}, message: 'Thank you: your rating helps your course see whether feedback comes in time.' });
  });

  return router;
}

type SmallForm = { values: Record<string, string>; fields: Record<string, string>; message: string | null };
const EMPTY_FORM: SmallForm = { values: {}, fields: {}, message: null };

/** The feedback page, or (htmx) the part the form answered: the appeal, or the rating when `ratingForm` is given. */
async function showFeedback(deps: { db: RootDb; config: Pick<Config, 'encryptionKey'> }, req: Request, res: Response, form: SmallForm, status = 200, ratingForm?: SmallForm): Promise<void> {
  const actor = actorOf(res);
  const submissionId = idParam(req.params.submissionId, 'The feedback');
  const f = await studentFeedback(deps.db, { courseId: courseOf(actor), studentId: actor.userId }, submissionId, deps.config);
  const [appeal, rating] = await Promise.all([findAppealOfSubmission(deps.db, submissionId), findRatingOfSubmission(deps.db, submissionId)]);
  render(
    req,
    res,
    'pages/student/feedback',
    {
      title: `Feedback: ${f.taskTitle}`,
      submissionId,
      appeal: appeal ? presentAppeal(appeal) : null,
      appealForm: form,
      rating: rating ? { value: rating.rating, comment: rating.comment } : null,
      ratingForm: ratingForm ?? EMPTY_FORM,
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
    },
    { status, fragment: ratingForm ? 'partials/student/_rating' : 'partials/student/_appeal' },
  );
}
