import { Router, type Request, type RequestHandler, type Response } from 'express';
import type { Config } from '../config.js';
import type { RootDb } from '../db/db.js';
import { actorOf, allow, courseOf, type Actor } from '../lti/actor.js';
import { HttpError, NotFound } from '../errors.js';
import { linkWith, render } from '../http/render.js';
import { getCoursePrivacy } from '../models/privacy/privacy.repository.js';
import { findActiveVersion } from '../models/prompts/prompts.repository.js';
import { studentSubmissionStatuses, TERMINAL } from '../models/submissions/status.service.js';
import { formatSize, type UploadedFile } from '../models/submissions/submission-input.js';
import { lastAttempt } from '../models/submissions/submissions.repository.js';
import { submitWork } from '../models/submissions/submissions.service.js';
import { findTaskInCourse, listTaskSummaries, type TaskRow } from '../models/tasks/tasks.repository.js';
import { idParam } from './params.js';
import { formatDateTime, formatScore, taskTypeLabel } from './present.js';
import { uploadProblemOf } from './submission-upload.js';
import { changeQueue } from '../models/queue/stats-cache.js';

export interface StudentRouteDeps {
  db: RootDb;
  config: Pick<Config, 'encryptionKey' | 'submissionMaxChars' | 'submissionMaxFileBytes' | 'batches'>;
  /** Submissions per person (src/http/rate-limit.ts): refused with 429 before anything is checked or stored. */
  submissionLimit: RequestHandler;
}

/** What the student typed, shown again when the form is refused (never the file: browsers cannot refill one). */
interface FormState {
  text: string;
  format: 'text' | 'markdown';
  message?: string;
  fields: Record<string, string>;
  submitted?: boolean;
}

/** A student's pages: their course's tasks and their own work. Never anyone else's. */
export function studentRoutes(deps: StudentRouteDeps): Router {
  const router = Router();
  router.use('/student', allow('student'));
  const limits = { maxChars: deps.config.submissionMaxChars, maxFileBytes: deps.config.submissionMaxFileBytes };

  router.get('/student', async (_req, res) => {
    const actor = actorOf(res);
    const tasks = await listTaskSummaries(deps.db, courseOf(actor), actor.userId);
    render(_req, res, 'pages/student/home', {
      title: 'Your tasks',
      tasks: tasks.map((t) => ({ id: t.id, title: t.title, typeLabel: taskTypeLabel(t.taskType), maxScore: formatScore(t.maxScore), submissionCount: t.submissionCount })),
    });
  });

  const activeTask = async (req: Request, actor: Actor): Promise<TaskRow> => {
    const task = await findTaskInCourse(deps.db, courseOf(actor), idParam(req.params.taskId, 'The task'));
    if (!task || task.status !== 'active') throw NotFound('The task');
    return task;
  };

  /** The submissions list (polled by itself while anything is still on its way). */
  const submissionsModel = async (task: TaskRow, actor: Actor) => {
    const statuses = await studentSubmissionStatuses(deps.db, task.id, actor.userId, deps.config.batches.maxSize);
    return {
      taskId: task.id,
      polling: statuses.some((s) => !TERMINAL.has(s.status)),
      submissions: statuses.map((s) => ({
        id: s.submissionId,
        attempt: s.attempt,
        submittedAt: formatDateTime(s.submittedAt),
        submittedAtIso: s.submittedAt.toISOString(),
        status: s.status,
        statusLabel: s.statusLabel,
        position: s.position,
        etaLabel: s.etaLabel,
        etaIso: s.eta?.toISOString() ?? null,
        detail: s.detail,
        feedbackReleased: s.feedbackReleased,
      })),
    };
  };

  /** The task page's working area: the form (or why there is none) and the submissions list. */
  const workModel = async (task: TaskRow, actor: Actor, form: FormState) => {
    const courseId = courseOf(actor);
    const [privacy, version, used, list] = await Promise.all([
      getCoursePrivacy(deps.db, courseId),
      findActiveVersion(deps.db, task.id),
      lastAttempt(deps.db, task.id, actor.userId),
      submissionsModel(task, actor),
    ]);
    let closed: string | null = null;
    if (!privacy.llmAllowed) closed = 'Your instructor has not allowed LLM assessment in this course, so work cannot be submitted here yet.';
    else if (!version) closed = 'This task has no grading prompt yet, so it cannot take submissions. Your instructor must write one first.';
    else if (used >= task.maxAttempts) closed = task.maxAttempts === 1 ? 'You have submitted this task; it allows one attempt.' : `You have used all ${task.maxAttempts} attempts for this task.`;
    return {
      task: {
        id: task.id,
        title: task.title,
        description: task.description,
        typeLabel: taskTypeLabel(task.taskType),
        maxScore: formatScore(task.maxScore),
        attemptsLabel: task.maxAttempts === 1 ? 'one attempt' : `up to ${task.maxAttempts} attempts`,
      },
      attempt: { next: used + 1, max: task.maxAttempts, left: Math.max(0, task.maxAttempts - used) },
      closed,
      consentRequired: privacy.consentRequired,
      limits: { chars: limits.maxChars.toLocaleString('en'), file: formatSize(limits.maxFileBytes) },
      form,
      ...list,
    };
  };

  const showTask = async (req: Request, res: Response, task: TaskRow, form: FormState, status = 200) => {
    const actor = actorOf(res);
    render(req, res, 'pages/student/task', { title: task.title, ...(await workModel(task, actor, form)) }, { status, fragment: 'partials/student/_task-work' });
  };

  router.get('/student/tasks/:taskId', async (req, res) => {
    const task = await activeTask(req, actorOf(res));
    await showTask(req, res, task, { text: '', format: 'text', fields: {} });
  });

  router.get('/student/tasks/:taskId/submissions', async (req, res) => {
    const actor = actorOf(res);
    const task = await activeTask(req, actor);
    render(req, res, 'pages/student/task', { title: task.title, ...(await workModel(task, actor, { text: '', format: 'text', fields: {} })) }, { fragment: 'partials/student/_submissions' });
  });

  router.post('/student/tasks/:taskId/submissions', deps.submissionLimit, async (req, res) => {
    const actor = actorOf(res);
    const task = await activeTask(req, actor);
    const body = (req.body ?? {}) as Record<string, unknown>;
    const form: FormState = {
      text: typeof body.text === 'string' ? body.text : '',
      format: body.format === 'markdown' ? 'markdown' : 'text',
      fields: {},
    };
    const problem = uploadProblemOf(res);
    if (problem) return showTask(req, res, task, { ...form, message: problem.message, fields: { file: problem.message } }, problem.status);
    const file: UploadedFile | undefined = req.file ? { originalName: req.file.originalname, mimeType: req.file.mimetype, bytes: req.file.buffer } : undefined;
    try {
      await changeQueue(deps.db, actor.platformId, (tx) =>
        submitWork(tx, { ...deps.config, batches: deps.config.batches }, { platformId: actor.platformId, courseId: courseOf(actor), userId: actor.userId }, task.id, { body, file }),
      );
    } catch (err) {
      // Refusals are shown in the form, with the status that says why (409 closed, 422 bad input).
      if (err instanceof HttpError && err.status < 500 && err.status !== 404) return showTask(req, res, task, { ...form, message: err.message, fields: err.fields }, err.status);
      throw err;
    }
    if (req.get('HX-Request') !== 'true') {
      // A plain form post: back to the task page (a reload must not submit again).
      return res.redirect(303, linkWith(actor.ltik)(`/student/tasks/${task.id}`));
    }
    await showTask(req, res, task, { text: '', format: 'text', fields: {}, submitted: true }, 201);
  });

  return router;
}
