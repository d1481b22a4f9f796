import type { Request, Response } from 'express';
import { actorOf, courseOf } from '../lti/actor.js';
import { HttpError } from '../errors.js';
import { render } from '../http/render.js';
import { MIN_DECISIONS_ABOVE } from '../analytics/calibration.js';
import { agreementChart, agreementReport } from '../models/assessments/agreement.service.js';
import { calibrationReport, type CalibrationReport, type TaskThreshold } from '../models/assessments/calibration.service.js';
import { promptVersionsInCourse } from '../models/assessments/review.repository.js';
import { setReviewThreshold } from '../models/tasks/task-settings.service.js';
import { listTasksForCourse } from '../models/tasks/tasks.repository.js';
import { parseInput } from '../validation.js';
import { releaseLabel } from './instructor-task.page.js';
import { idParam } from './params.js';
import { presentOverrideCategories, presentSummary } from './review.present.js';
import { analyticsQuerySchema, calibrationTargetSchema, DEFAULT_CALIBRATION_TARGET, reviewThresholdSchema } from './review.schema.js';
import type { Notice, ReviewDeps } from './review.decisions.js';

/* The Agreement page: agreement per task, version, criterion and day; what overrides corrected; confidence against
   outcomes, and the review threshold each task's decisions support, applied to the task from here. */

const pctOf = (v: number) => `${Math.round(v * 100)} %`;
const share = (part: number, whole: number) => (whole ? `${((100 * part) / whole).toFixed(1)} %` : '—');
const were = (n: number) => `${n} ${n === 1 ? 'was' : 'were'}`;

/** One task's suggestion in words: what the threshold is, what it keeps, what it sends to review, and where it stands. */
function presentThreshold(t: TaskThreshold, target: number) {
  const s = t.suggestion;
  const version = `prompt v${t.promptVersion}`;
  const now = `Now: feedback is released ${releaseLabel({ releasePolicy: t.releasePolicy, autoReleaseMinConfidence: t.autoReleaseMinConfidence })}.`;
  if (s.threshold === null) {
    return {
      taskId: t.taskId,
      taskTitle: t.taskTitle,
      headline: 'No suggestion yet',
      explanation:
        s.reason === 'too_few'
          ? `${s.decided} of ${version}'s results have been decided; a suggestion needs at least ${MIN_DECISIONS_ABOVE} at or above a threshold.`
          : `No threshold keeps changed results within ${pctOf(target)} with at least ${MIN_DECISIONS_ABOVE} of ${version}'s ${s.decided} decided results above it: keep reviewing every result, and look at what your overrides corrected.`,
      now,
      threshold: null,
      canApply: false,
    };
  }
  const total = s.above.n + s.below.n;
  const explanation =
    s.threshold === 0
      ? `Of ${version}'s ${total} decided results, ${were(s.above.changed)} changed (${share(s.above.changed, s.above.n)}), within ${pctOf(target)} at every confidence: only flagged results would need review.`
      : `Of ${version}'s ${s.above.n} decided results at ${pctOf(s.threshold)} confidence or above, ${were(s.above.changed)} changed (${share(s.above.changed, s.above.n)}), within your ${pctOf(target)}. ` +
        `Below it, ${s.below.changed} of ${s.below.n} were changed; those (${share(s.below.n, total)} of results) would wait for your review. Flagged results always do.`;
  const applied = t.releasePolicy === 'immediately' && t.autoReleaseMinConfidence !== null && Math.abs(t.autoReleaseMinConfidence - s.threshold) < 0.005;
  return { taskId: t.taskId, taskTitle: t.taskTitle, headline: `Review below ${pctOf(s.threshold)}`, explanation, now, threshold: Math.round(s.threshold * 100), canApply: !applied };
}

function presentCalibration(c: CalibrationReport) {
  return {
    target: Math.round(c.target * 100),
    versions: c.byVersion.map((v) => ({
      label: v.label,
      decided: v.decided,
      rows: v.rows.map((r) => ({ bucket: `${Math.round(r.from * 100)}–${Math.round(r.to * 100)} %`, n: r.n, unchanged: r.unchanged, share: r.share === null ? '—' : `${(r.share * 100).toFixed(1)} %` })),
    })),
    thresholds: c.thresholds.map((t) => presentThreshold(t, c.target)),
  };
}

export async function showAnalytics({ db }: ReviewDeps, req: Request, res: Response, notice: Notice & { target?: number } = {}): Promise<void> {
  const courseId = courseOf(actorOf(res));
  const q = analyticsQuerySchema.parse(req.query ?? {});
  const fields: Record<string, string> = { ...(notice.fields ?? {}) };
  let target = notice.target ?? DEFAULT_CALIBRATION_TARGET;
  if (notice.target === undefined) {
    const parsed = calibrationTargetSchema.safeParse(req.query ?? {});
    if (parsed.success) target = parsed.data.target;
    else fields.target = parsed.error.issues[0]!.message;
  }
  const filter = { taskId: q.task, promptVersionId: q.version };
  const [report, calibration, tasks, versions] = await Promise.all([
    agreementReport(db, courseId, filter),
    calibrationReport(db, courseId, filter, target / 100),
    listTasksForCourse(db, courseId),
    promptVersionsInCourse(db, courseId),
  ]);
  const group = (g: { key: string; label: string; summary: Parameters<typeof presentSummary>[0] }) => ({ key: g.key, label: g.label, ...presentSummary(g.summary) });
  render(
    req,
    res,
    'pages/instructor/review-analytics',
    {
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
      overrideCategories: presentOverrideCategories(report.overrideCategories),
      calibration: presentCalibration(calibration),
      targetValue: fields.target ? String((req.query as Record<string, unknown>)?.target ?? '') : String(target),
      fields,
      message: notice.message ?? null,
    },
    { status: notice.status ?? (Object.keys(fields).length ? 422 : 200) },
  );
}

/** "Use this threshold": the task's auto-release threshold set to it (release at once above, review below). */
export async function applyReviewThreshold(deps: ReviewDeps, req: Request, res: Response): Promise<void> {
  const actor = actorOf(res);
  const taskId = idParam(req.params.taskId, 'The task');
  const body = (req.body ?? {}) as Record<string, unknown>;
  const target = calibrationTargetSchema.safeParse(body);
  const keep = { target: target.success ? target.data.target : DEFAULT_CALIBRATION_TARGET };
  let input;
  try {
    input = parseInput(reviewThresholdSchema, body);
  } catch (err) {
    if (err instanceof HttpError && err.status === 422) return showAnalytics(deps, req, res, { ...keep, fields: { [`threshold-${taskId}`]: err.fields.threshold ?? err.message }, status: 422, message: 'The threshold was not changed.' });
    throw err;
  }
  const task = await deps.db.transaction((tx) => setReviewThreshold(tx, { platformId: actor.platformId, courseId: courseOf(actor), userId: actor.userId }, taskId, input.threshold / 100));
  await showAnalytics(deps, req, res, { ...keep, message: `${task.title}: results at ${input.threshold} % confidence or above are now released at once; below it they wait for your review (flagged results always do). Task settings show and change the same threshold.` });
}
