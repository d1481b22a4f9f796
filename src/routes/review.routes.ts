import { Router, type Request, type Response } from 'express';
import { actorOf, allow, courseOf } from '../lti/actor.js';
import { HttpError } from '../errors.js';
import { render } from '../http/render.js';
import { flagCodesInCourse, listForReview } from '../models/assessments/review.repository.js';
import { bulkApprove, INJECTION_SKIP_REASON } from '../models/assessments/review.service.js';
import { listTasksForCourse } from '../models/tasks/tasks.repository.js';
import { enqueueSoon } from '../job-queue.js';
import { presentListItem } from './review.present.js';
import { bulkSchema, parseReviewQuery, toListFilter } from './review.schema.js';
import { applyReviewThreshold, showAnalytics } from './review-analytics.js';
import { answerAppealOf, approve, openReview, override, reject, retrySync, reviewerOf, type Notice, type ReviewDeps } from './review.decisions.js';
import { withDeps } from './handlers.js';

/** The instructor's review area: the queue of assessments to review, one assessment's page, and agreement analytics. */
export function reviewRoutes(deps: ReviewDeps): Router {
  const on = withDeps(deps);
  const router = Router();
  router.use(['/instructor/review', '/instructor/analytics'], allow('instructor'));
  router.get('/instructor/review', on((d, req, res) => showQueue(d, req, res)));
  router.post('/instructor/review/bulk-approve', on(approveSelected));
  router.get('/instructor/review/:assessmentId', on(openReview));
  router.post('/instructor/review/:assessmentId/approve', on(approve));
  router.post('/instructor/review/:assessmentId/override', on(override));
  router.post('/instructor/review/:assessmentId/reject', on(reject));
  router.post('/instructor/review/:assessmentId/retry-sync', on(retrySync));
  router.post('/instructor/review/:assessmentId/appeal', on(answerAppealOf));
  router.get('/instructor/analytics', on((d, req, res) => showAnalytics(d, req, res)));
  router.post('/instructor/analytics/tasks/:taskId/review-threshold', on(applyReviewThreshold));
  return router;
}

type BulkOutcome = { approved: number; skipped: Array<{ id: number; reason: string }>; injectionSkipped: boolean };

async function showQueue({ db }: ReviewDeps, req: Request, res: Response, notice: Notice & { outcome?: BulkOutcome } = {}): Promise<void> {
  const courseId = courseOf(actorOf(res));
  const { query, fields } = parseReviewQuery(req.query);
  const [items, tasks, flagCodes] = await Promise.all([listForReview(db, { courseId }, toListFilter(query)), listTasksForCourse(db, courseId), flagCodesInCourse(db, courseId)]);
  render(
    req,
    res,
    'pages/instructor/review-queue',
    {
      title: 'Review',
      items: items.map(presentListItem),
      tasks: tasks.map((t) => ({ id: t.id, title: t.title })),
      flagCodes,
      query,
      filterParams: { status: query.status, task: query.task, flag: query.flag, confidenceBelow: query.confidenceBelow, scoreMin: query.scoreMin, scoreMax: query.scoreMax },
      fields: { ...fields, ...(notice.fields ?? {}) },
      outcome: notice.outcome ?? null,
      message: notice.message ?? null,
      selected: (notice.values?.ids as number[] | undefined) ?? [],
    },
    { status: notice.status ?? (Object.keys(fields).length ? 422 : 200), fragment: 'partials/review/_queue' },
  );
}

async function approveSelected(deps: ReviewDeps, req: Request, res: Response): Promise<void> {
  const who = reviewerOf(actorOf(res));
  const parsed = bulkSchema.safeParse(req.body ?? {});
  if (!parsed.success) return showQueue(deps, req, res, { fields: { ids: parsed.error.issues[0]!.message }, status: 422 });
  try {
    const outcome = await deps.db.transaction((tx) => bulkApprove(tx, who, parsed.data.ids, parsed.data.confirmFlagged));
    if (outcome.approved.length) {
      await enqueueSoon(deps.jobs, deps.logger, 'sync-grades', {});
      await enqueueSoon(deps.jobs, deps.logger, 'send-email', {});
    }
    await showQueue(deps, req, res, { outcome: { approved: outcome.approved.length, skipped: outcome.skipped, injectionSkipped: outcome.skipped.some((x) => x.reason === INJECTION_SKIP_REASON) } });
  } catch (err) {
    if (err instanceof HttpError && err.status === 422) return showQueue(deps, req, res, { fields: err.fields, status: 422, message: err.message, values: { ids: parsed.data.ids } });
    throw err;
  }
}
