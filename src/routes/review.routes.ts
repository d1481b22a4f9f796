import { Router, type Request, type Response } from 'express';
import type { Config } from '../config.js';
import type { RootDb } from '../db/db.js';
import { actorOf, allow, courseOf, type Actor } from '../lti/actor.js';
import { BadRequest, HttpError } from '../errors.js';
import { render } from '../http/render.js';
import { agreementChart, agreementReport } from '../models/assessments/agreement.service.js';
import { flagCodesInCourse, listForReview, promptVersionsInCourse } from '../models/assessments/review.repository.js';
import { loadReview } from '../models/assessments/review-page.service.js';
import { approveAssessment, bulkApprove, INJECTION_SKIP_REASON, overrideAssessment, rejectAssessment, retryGradeSync, type Reviewer } from '../models/assessments/review.service.js';
import { parseOverride, parseReject } from '../models/assessments/review.schema.js';
import { listTasksForCourse } from '../models/tasks/tasks.repository.js';
import { enqueueSoon, type Jobs } from '../job-queue.js';
import type { Logger } from '../log.js';
import { idParam } from './params.js';
import { presentListItem, presentReview, presentSummary } from './review.present.js';
import { analyticsQuerySchema, bulkSchema, decisionSeqSchema, parseReviewQuery, toListFilter } from './review.schema.js';

function reviewerOf(actor: Actor): Reviewer {
  return { platformId: actor.platformId, courseId: courseOf(actor), userId: actor.userId };
}

interface Notice {
  message?: string;
  fields?: Record<string, string>;
  values?: Record<string, unknown>;
  status?: number;
}

/** The instructor's review area: the queue of assessments to review, one assessment's page, and agreement analytics. */
export function reviewRoutes(deps: { db: RootDb; config: Config; logger: Logger; jobs?: Jobs }): Router {
  const { db, config } = deps;
  const router = Router();
  router.use(['/instructor/review', '/instructor/analytics'], allow('instructor'));

  const showQueue = async (req: Request, res: Response, notice: Notice & { outcome?: { approved: number; skipped: Array<{ id: number; reason: string }>; injectionSkipped: boolean } } = {}) => {
    const courseId = courseOf(actorOf(res));
    const { query, fields } = parseReviewQuery(req.query);
    const [items, tasks, flagCodes] = await Promise.all([listForReview(db, { courseId }, toListFilter(query)), listTasksForCourse(db, courseId), flagCodesInCourse(db, courseId)]);
    const allFields = { ...fields, ...(notice.fields ?? {}) };
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
        fields: allFields,
        outcome: notice.outcome ?? null,
        message: notice.message ?? null,
        selected: (notice.values?.ids as number[] | undefined) ?? [],
      },
      { status: notice.status ?? (Object.keys(fields).length ? 422 : 200), fragment: 'partials/review/_queue' },
    );
  };

  const showReview = async (req: Request, res: Response, id: number, notice: Notice = {}) => {
    const who = reviewerOf(actorOf(res));
    const data = await loadReview(db, config, { courseId: who.courseId }, id);
    const next = (await listForReview(db, { courseId: who.courseId }, { status: 'pending' }, 2)).find((i) => i.id !== id);
    render(
      req,
      res,
      'pages/instructor/review',
      { title: `Review: ${data.context.taskTitle}`, a: presentReview(data), nextId: next?.id ?? null, message: notice.message ?? null, fields: notice.fields ?? {}, values: notice.values ?? {} },
      { status: notice.status, fragment: 'partials/review/_decision' },
    );
  };

  /** Runs a decision; a 422 re-renders the decision panel with messages beside the fields and the values typed. */
  const decide = async (req: Request, res: Response, id: number, action: (who: Reviewer) => Promise<{ gradeSyncStatus: string }>, done: string) => {
    const who = reviewerOf(actorOf(res));
    let row;
    try {
      row = await action(who);
    } catch (err) {
      if (err instanceof HttpError && err.status === 422) return showReview(req, res, id, { fields: err.fields, values: req.body ?? {}, status: 422, message: err.message });
      throw err;
    }
    // The decision made the sync pending: this sends it now rather than at the recurring sync.
    if (row.gradeSyncStatus === 'pending') await enqueueSoon(deps.jobs, deps.logger, 'sync-grades', { assessmentId: id });
    await showReview(req, res, id, { message: done });
  };

  router.get('/instructor/review', async (req, res) => {
    await showQueue(req, res);
  });

  router.post('/instructor/review/bulk-approve', async (req, res) => {
    const who = reviewerOf(actorOf(res));
    const parsed = bulkSchema.safeParse(req.body ?? {});
    if (!parsed.success) return showQueue(req, res, { fields: { ids: parsed.error.issues[0]!.message }, status: 422 });
    try {
      const outcome = await db.transaction((tx) => bulkApprove(tx, who, parsed.data.ids, parsed.data.confirmFlagged));
      if (outcome.approved.length) await enqueueSoon(deps.jobs, deps.logger, 'sync-grades', {});
      await showQueue(req, res, { outcome: { approved: outcome.approved.length, skipped: outcome.skipped, injectionSkipped: outcome.skipped.some((x) => x.reason === INJECTION_SKIP_REASON) } });
    } catch (err) {
      if (err instanceof HttpError && err.status === 422) return showQueue(req, res, { fields: err.fields, status: 422, message: err.message, values: { ids: parsed.data.ids } });
      throw err;
    }
  });

  router.get('/instructor/review/:assessmentId', async (req, res) => {
    await showReview(req, res, idParam(req.params.assessmentId, 'The assessment'));
  });

  router.post('/instructor/review/:assessmentId/approve', async (req, res) => {
    const id = idParam(req.params.assessmentId, 'The assessment');
    const parsed = decisionSeqSchema.safeParse(req.body ?? {});
    if (!parsed.success) throw BadRequest('This form is out of date: reload the page and decide again.');
    await decide(req, res, id, (who) => db.transaction((tx) => approveAssessment(tx, who, id, parsed.data.decisionSeq)), 'Approved. The grade goes to the LMS gradebook and the student can see the feedback.');
  });

  router.post('/instructor/review/:assessmentId/override', async (req, res) => {
    const id = idParam(req.params.assessmentId, 'The assessment');
    await decide(
      req,
      res,
      id,
      (who) => {
        const input = parseOverride(req.body);
        return db.transaction((tx) => overrideAssessment(tx, who, id, input));
      },
      'Overridden. Your grade goes to the LMS gradebook; the model\'s result is kept beside it.',
    );
  });

  router.post('/instructor/review/:assessmentId/reject', async (req, res) => {
    const id = idParam(req.params.assessmentId, 'The assessment');
    await decide(req, res, id, (who) => {
      const input = parseReject(req.body);
      return db.transaction((tx) => rejectAssessment(tx, config, who, id, input));
    }, 'Rejected. The student sees nothing of this assessment.');
  });

  router.post('/instructor/review/:assessmentId/retry-sync', async (req, res) => {
    const id = idParam(req.params.assessmentId, 'The assessment');
    await decide(req, res, id, (who) => db.transaction((tx) => retryGradeSync(tx, who, id)), 'The grade will be sent to the LMS gradebook again shortly.');
  });

  router.get('/instructor/analytics', async (req, res) => {
    const courseId = courseOf(actorOf(res));
    const q = analyticsQuerySchema.parse(req.query ?? {});
    const [report, tasks, versions] = await Promise.all([
      agreementReport(db, courseId, { taskId: q.task, promptVersionId: q.version }),
      listTasksForCourse(db, courseId),
      promptVersionsInCourse(db, courseId),
    ]);
    const group = (g: { key: string; label: string; summary: Parameters<typeof presentSummary>[0] }) => ({ key: g.key, label: g.label, ...presentSummary(g.summary) });
    render(req, res, 'pages/instructor/review-analytics', {
      title: 'Agreement',
      query: q,
      tasks: tasks.map((t) => ({ id: t.id, title: t.title })),
      versions: versions.filter((v) => !q.task || v.taskId === q.task),
      overall: presentSummary(report.overall),
      byTask: report.byTask.map(group),
      byPromptVersion: report.byPromptVersion.map(group),
      byCriterion: report.byCriterion.map(group),
      timeline: report.timeline.map(group),
      chart: agreementChart(report.timeline),
    });
  });

  return router;
}
