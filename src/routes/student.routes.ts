import { Router, type Request, type Response } from 'express';
import { actorOf, allow, courseOf } from '../lti/actor.js';
import { HttpError } from '../errors.js';
import { isFragmentRequest, linkWith, render } from '../http/render.js';
import { readUpload, submissionLimitsOf, type UploadedFile } from '../models/submissions/submission-input.js';
import { submitWork } from '../models/submissions/submissions.service.js';
import { listTaskSummaries } from '../models/tasks/tasks.repository.js';
import { formatScore, taskTypeLabel } from './present.js';
import { uploadProblemOf } from './submission-upload.js';
import { changeQueue } from '../models/queue/stats-cache.js';
import { activeTask, emptyForm, showTask, workModel, type FormState, type PriorityMessage, type StudentRouteDeps } from './student.task.js';
import { requestPriorityGrading } from '../models/escalation/escalation.service.js';
import { enqueueSoon } from '../job-queue.js';
import { idParam } from './params.js';
import { presentFilePreview, type FilePreview } from './student.present.js';
import { withDeps } from './handlers.js';

export type { StudentRouteDeps } from './student.task.js';

/** A student's pages: their course's tasks and their own work. Never anyone else's. */
export function studentRoutes(deps: StudentRouteDeps): Router {
  const on = withDeps(deps);
  const router = Router();
  router.use('/student', allow('student'));
  router.get('/student', on(showHome));
  router.get('/student/tasks/:taskId', on(openTask));
  router.get('/student/tasks/:taskId/submissions', on(listSubmissions));
  router.post('/student/tasks/:taskId/submissions', deps.submissionLimit, on(submit));
  router.post('/student/tasks/:taskId/submissions/preview', deps.previewLimit, on(previewFile));
  router.post('/student/tasks/:taskId/submissions/:submissionId/priority', on(askPriority));
  return router;
}

/** The typed part of a posted form, to show it again. */
function formOf(req: Request): FormState {
  const body = (req.body ?? {}) as Record<string, unknown>;
  return {
    text: typeof body.text === 'string' ? body.text : '',
    format: body.format === 'markdown' ? 'markdown' : 'text',
    fields: {},
    consent: body.consent === 'on' ? 'on' : undefined,
    grading: body.grading === 'hand' ? 'hand' : undefined,
  };
}

const uploadedFileOf = (req: Request): UploadedFile | undefined =>
  req.file ? { originalName: req.file.originalname, mimeType: req.file.mimetype, bytes: req.file.buffer } : undefined;

async function showHome(deps: StudentRouteDeps, req: Request, res: Response): Promise<void> {
  const actor = actorOf(res);
  const tasks = await listTaskSummaries(deps.db, courseOf(actor), actor.userId);
  render(req, res, 'pages/student/home', {
    title: 'Your tasks',
    tasks: tasks.map((t) => ({ id: t.id, title: t.title, typeLabel: taskTypeLabel(t.taskType), maxScore: formatScore(t.maxScore), submissionCount: t.submissionCount })),
  });
}

async function openTask(deps: StudentRouteDeps, req: Request, res: Response): Promise<void> {
  const task = await activeTask(deps, req, actorOf(res));
  await showTask(deps, req, res, task, emptyForm());
}

async function listSubmissions(deps: StudentRouteDeps, req: Request, res: Response): Promise<void> {
  const actor = actorOf(res);
  const task = await activeTask(deps, req, actor);
  render(req, res, 'pages/student/task', { title: task.title, ...(await workModel(deps, task, actor, emptyForm())) }, { fragment: 'partials/student/_submissions' });
}

async function submit(deps: StudentRouteDeps, req: Request, res: Response): Promise<void> {
  const actor = actorOf(res);
  const task = await activeTask(deps, req, actor);
  const body = (req.body ?? {}) as Record<string, unknown>;
  const form = formOf(req);
  const problem = uploadProblemOf(res);
  if (problem) return showTask(deps, req, res, task, { ...form, message: problem.message, fields: { file: problem.message } }, problem.status);
  const file = uploadedFileOf(req);
  let byHand: string | null;
  let realtimeRequestId: number | null;
  try {
    ({ byHand, realtimeRequestId } = await changeQueue(deps.db, actor.platformId, (tx) => submitWork(tx, deps.config, { platformId: actor.platformId, courseId: courseOf(actor), userId: actor.userId }, task.id, { body, file })));
  } catch (err) {
    // Refusals are shown in the form, with the status that says why (409 closed, 422 bad input).
    if (err instanceof HttpError && err.status < 500 && err.status !== 404) return showTask(deps, req, res, task, { ...form, message: err.message, fields: err.fields }, err.status);
    throw err;
  }
  if (realtimeRequestId !== null) await enqueueSoon(deps.jobs, deps.logger, 'grade-realtime', { requestId: realtimeRequestId });
  if (req.get('HX-Request') !== 'true') {
    // A plain form post: back to the task page (a reload must not submit again).
    return res.redirect(303, linkWith(actor.ltik)(`/student/tasks/${task.id}`));
  }
  await showTask(deps, req, res, task, { ...emptyForm(), submitted: byHand ? 'hand' : 'llm' }, 201);
}

/**
 * What the chosen file reads as, before it is handed in: its pages and words and the first lines of the text that
 * will be graded, or the message the submission would give. Reads the file with the submission's own reader and
 * limits, and stores nothing. htmx gets the preview region's content; a plain form post (the form's "Check the file"
 * button without JavaScript) gets the task page with the preview in place.
 */
async function previewFile(deps: StudentRouteDeps, req: Request, res: Response): Promise<void> {
  const actor = actorOf(res);
  const task = await activeTask(deps, req, actor);
  const problem = uploadProblemOf(res);
  const file = uploadedFileOf(req);
  let preview: FilePreview = { state: 'none' };
  let status = 200;
  if (problem) {
    preview = { state: 'refused', message: problem.message };
    status = problem.status;
  } else if (file) {
    preview = presentFilePreview(await readUpload(file, submissionLimitsOf(deps.config)), !isFragmentRequest(req));
    if (preview.state === 'refused') status = 422;
  }
  const model = await workModel(deps, task, actor, { ...formOf(req), preview });
  render(req, res, 'pages/student/task', { title: task.title, ...model }, { status, fragment: 'partials/student/_file-preview' });
}

/**
 * "Ask for priority grading": the student's own work, still waiting in the queue, graded now through the real-time API
 * where the course offers it and their monthly limit allows (escalation.service.ts). Accepted: 202 and the list
 * saying so (a plain post goes back to the task page); refused: 409 with why, on the page, and nothing changed.
 */
async function askPriority(deps: StudentRouteDeps, req: Request, res: Response): Promise<void> {
  const actor = actorOf(res);
  const task = await activeTask(deps, req, actor);
  const submissionId = idParam(req.params.submissionId, 'The submission');
  let message: PriorityMessage;
  let status = 202;
  try {
    const started = await changeQueue(deps.db, actor.platformId, (tx) => requestPriorityGrading(tx, { platformId: actor.platformId, courseId: courseOf(actor), userId: actor.userId }, task.id, submissionId));
    await enqueueSoon(deps.jobs, deps.logger, 'grade-realtime', { requestId: started.requestId });
    if (req.get('HX-Request') !== 'true') return res.redirect(303, linkWith(actor.ltik)(`/student/tasks/${task.id}`));
    message = { text: `Your work is being graded now, through the real-time API. You have ${started.left} priority ${started.left === 1 ? 'request' : 'requests'} left this month.`, error: false };
  } catch (err) {
    if (!(err instanceof HttpError && err.status === 409)) throw err;
    message = { text: err.message, error: true };
    status = 409;
  }
  const model = await workModel(deps, task, actor, emptyForm(), message);
  render(req, res, 'pages/student/task', { title: task.title, ...model }, { status, fragment: 'partials/student/_submissions' });
}
