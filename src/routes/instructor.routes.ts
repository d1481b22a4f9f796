import { Router, type Request, type Response } from 'express';
import type { Config } from '../config.js';
import type { RootDb } from '../db/db.js';
import { actorOf, allow, courseOf, type Actor } from '../lti/actor.js';
import { linkWith, render } from '../http/render.js';
import { listTaskSummaries } from '../models/tasks/tasks.repository.js';
import { getCoursePrivacy } from '../models/privacy/privacy.repository.js';
import { changeQueue } from '../models/queue/stats-cache.js';
import { openText } from '../models/assessments/assessment-texts.js';
import { commentsAsWritten } from '../models/assessments/feedback.service.js';
import { requestGradeNow, retryGrading, takeToGradeByHand } from '../models/submissions/regrade.service.js';
import { gradesNowInRealtime, instructorGradeNow } from '../models/escalation/escalation.service.js';
import { dollars } from '../models/budgets/budgets.service.js';
import { enqueueSoon, type Jobs } from '../job-queue.js';
import type { Logger } from '../log.js';
import { courseProtection } from '../models/submissions/submissions.service.js';
import { taskProgress } from '../models/tasks/task-progress.service.js';
import { findRosterSource, type RosterSource } from '../models/tenancy/roster.repository.js';
import { parseInput } from '../validation.js';
import { idParam } from './params.js';
import { withDeps } from './handlers.js';
import { formatDateTime, formatScore, taskTypeLabel } from './present.js';
import { gradeNowSchema, taskViewQuerySchema, type TaskViewQuery } from './instructor-task.schema.js';
import { presentProgressRow, progressCsv, statusChoices } from './instructor-task.present.js';
import { activeVersionOfTask, courseTask, taskFacts } from './instructor-task.page.js';

/** An instructor's pages for the course they launched from: the tasks, and one task's students and their work. */
export interface InstructorDeps {
  db: RootDb;
  config: Pick<Config, 'encryptionKey' | 'batches'>;
  /** Enqueues the real-time grading "grade now" asks for (absent in bare apps). */
  jobs?: Jobs;
  logger: Pick<Logger, 'warn'>;
}

export function instructorRoutes(deps: InstructorDeps): Router {
  const on = withDeps(deps);
  const router = Router();
  router.use('/instructor', allow('instructor'));
  router.get('/instructor', on(showHome));
  router.get('/instructor/tasks/:taskId', on(showTask));
  router.get('/instructor/tasks/:taskId/export.csv', on(exportCsv));
  router.post('/instructor/tasks/:taskId/grade-now', on(gradeNow));
  router.post('/instructor/tasks/:taskId/submissions/:submissionId/retry', on(retry));
  router.post('/instructor/tasks/:taskId/submissions/:submissionId/grade-by-hand', on(gradeByHand));
  return router;
}

async function showHome(deps: InstructorDeps, req: Request, res: Response): Promise<void> {
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
}

const staffOf = (actor: Actor) => ({ platformId: actor.platformId, courseId: courseOf(actor), userId: actor.userId });

/** The task page: its facts, and every student with their work (filtered, searched); htmx gets the students part. */
async function showTask(deps: InstructorDeps, req: Request, res: Response, message?: { text: string; error?: boolean }, status = 200): Promise<void> {
  const actor = actorOf(res);
  const task = await courseTask(deps.db, actor, req.params.taskId);
  const query: TaskViewQuery = parseInput(taskViewQuerySchema, req.query);
  const [privacy, source, progress, version] = await Promise.all([
    getCoursePrivacy(deps.db, task.courseId),
    findRosterSource(deps.db, task.courseId),
    taskProgress(deps.db, actor.platformId, task, query, deps.config.batches.maxSize),
    activeVersionOfTask(deps.db, task.id),
  ]);
  render(
    req,
    res,
    'pages/instructor/task',
    {
      title: task.title,
      llmAllowed: privacy.llmAllowed,
      task: taskFacts(task, version),
      rosterSource: rosterSourceLabel(source),
      query: { status: query.status ?? '', q: query.q ?? '' },
      statusChoices: statusChoices(progress.counts, progress.total),
      waiting: progress.counts.queued,
      students: progress.rows.map((p) => presentProgressRow(p, gradesNowInRealtime(privacy))),
      message: message ?? null,
    },
    { status, fragment: 'partials/instructor/_task-students' },
  );
}

/** Scores and feedback of every student of the task, as CSV (a spreadsheet opens it; formulas are defused). */
async function exportCsv(deps: InstructorDeps, req: Request, res: Response): Promise<void> {
  const actor = actorOf(res);
  const task = await courseTask(deps.db, actor, req.params.taskId);
  const { rows } = await taskProgress(deps.db, actor.platformId, task, {}, deps.config.batches.maxSize);
  const withTexts = [];
  // The course's people once for every row: each student's comments get their names back against the same roster.
  const protect = await courseProtection(deps.db, task.courseId);
  for (const p of rows) {
    const owner = p.submissionId == null ? null : { queueItemId: p.queueItemId, submissionId: p.submissionId };
    withTexts.push({
      ...p,
      instructorFeedback: owner && p.overrideFeedback ? openText(deps.config.encryptionKey, owner, 'override_feedback', p.overrideFeedback) : null,
      llmComments: p.submissionId == null ? null : await commentsAsWritten(deps.db, deps.config, { courseId: task.courseId, studentId: p.studentId }, { taskId: task.id, submissionId: p.submissionId, result: p.result }, protect),
    });
  }
  const name = task.title.replace(/[^A-Za-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 60) || 'task';
  res.status(200).type('text/csv; charset=utf-8').attachment(`${name}-scores.csv`).send(`\uFEFF${progressCsv(withTexts)}`);
}

/** Refusals of the actions are shown on the task page (409 nothing to do, 404 not this course's). */
async function answer(deps: InstructorDeps, req: Request, res: Response, act: () => Promise<string>): Promise<void> {
  const actor = actorOf(res);
  try {
    const text = await act();
    if (req.get('HX-Request') !== 'true') {
      res.redirect(303, linkWith(actor.ltik)(`/instructor/tasks/${idParam(req.params.taskId, 'The task')}`));
      return;
    }
    await showTask(deps, req, res, { text });
  } catch (err) {
    const e = err as { status?: number; message?: string };
    if (e.status === 409 || e.status === 422) return showTask(deps, req, res, { text: e.message ?? 'Nothing was changed.', error: true }, e.status);
    throw err;
  }
}

/**
 * "Grade now". One submission, where the course lets instructors grade now in real time (the default, and always
 * in a real-time-only course): through the real-time API at the standard price, past the spending gate
 * (escalation.service.ts). Otherwise, and for "all waiting" (a whole task at twice the price is the
 * administrator's decision, not a button's): first in line for the next batch, at the batch price.
 */
async function gradeNow(deps: InstructorDeps, req: Request, res: Response): Promise<void> {
  const actor = actorOf(res);
  const taskId = idParam(req.params.taskId, 'The task');
  const { submissionId } = parseInput(gradeNowSchema, req.body ?? {});
  const privacy = await getCoursePrivacy(deps.db, courseOf(actor));
  if (typeof submissionId === 'number' && gradesNowInRealtime(privacy)) {
    return answer(deps, req, res, async () => {
      const started = await changeQueue(deps.db, actor.platformId, (tx) => instructorGradeNow(tx, staffOf(actor), taskId, submissionId));
      await enqueueSoon(deps.jobs, deps.logger, 'grade-realtime', { requestId: started.requestId });
      return `The work is being graded now through the real-time API, at twice the batch price (at most ${dollars(started.worstMicros)}). Its result appears here, and in Review, in a minute or two.`;
    });
  }
  await answer(deps, req, res, async () => {
    const moved = await changeQueue(deps.db, actor.platformId, (tx) => requestGradeNow(tx, staffOf(actor), taskId, typeof submissionId === 'number' ? [submissionId] : null));
    return `${moved} waiting ${moved === 1 ? 'item goes' : 'items go'} to the front of the queue: the administrator sees ${moved === 1 ? 'it' : 'them'} at high priority for the next batch.`;
  });
}

async function retry(deps: InstructorDeps, req: Request, res: Response): Promise<void> {
  const actor = actorOf(res);
  const taskId = idParam(req.params.taskId, 'The task');
  const submissionId = idParam(req.params.submissionId, 'The submission');
  await answer(deps, req, res, async () => {
    await changeQueue(deps.db, actor.platformId, (tx) => retryGrading(tx, deps.config, staffOf(actor), taskId, submissionId));
    return 'The work is back in the grading queue.';
  });
}

async function gradeByHand(deps: InstructorDeps, req: Request, res: Response): Promise<void> {
  const actor = actorOf(res);
  const taskId = idParam(req.params.taskId, 'The task');
  const submissionId = idParam(req.params.submissionId, 'The submission');
  await answer(deps, req, res, async () => {
    await deps.db.transaction((tx) => takeToGradeByHand(tx, staffOf(actor), taskId, submissionId));
    return 'The work waits for your grade in Review (“To grade by hand”).';
  });
}

/** Where the list of students comes from, so an instructor knows how complete it is. */
function rosterSourceLabel(source: RosterSource | undefined): string {
  if (source?.rosterSyncedAt) return `From the LMS course roster, read ${formatDateTime(source.rosterSyncedAt)}, and everyone who opened the task since.`;
  if (source?.membershipsUrl) return 'The LMS course roster is being read; until then the list holds the students who have opened the tool.';
  return 'Your LMS does not share the course roster with the tool (LTI Names and Role Provisioning), so the list holds the students who have opened the tool.';
}
