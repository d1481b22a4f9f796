import type { Request, RequestHandler, Response } from 'express';
import type { Config } from '../config.js';
import type { RootDb } from '../db/db.js';
import type { Jobs } from '../job-queue.js';
import type { Logger } from '../log.js';
import { studentEscalation } from '../models/escalation/escalation.service.js';
import { actorOf, courseOf, type Actor } from '../lti/actor.js';
import { NotFound } from '../errors.js';
import { render } from '../http/render.js';
import { CURRENT_CONSENT } from '../models/privacy/consent.js';
import { findStandingConsent } from '../models/privacy/consent.repository.js';
import { getCoursePrivacy } from '../models/privacy/privacy.repository.js';
import { findActiveVersion } from '../models/prompts/prompts.repository.js';
import { studentSubmissionStatuses, TERMINAL } from '../models/submissions/status.service.js';
import { formatSize, type SubmissionLimitsConfig } from '../models/submissions/submission-input.js';
import { ACCEPTED_FILES, type FilePreview } from './student.present.js';
import { lastAttempt } from '../models/submissions/submissions.repository.js';
import { findTaskInCourse, type TaskRow } from '../models/tasks/tasks.repository.js';
import { idParam } from './params.js';
import { formatDateTime, formatScore, taskBasics } from './present.js';

/* A student's task page: the task, the form (or why there is none) and their submissions with where each stands. */

export interface StudentRouteDeps {
  db: RootDb;
  /** Enqueues the real-time grading a priority request or a real-time-only submission asks for (absent in bare apps). */
  jobs?: Jobs;
  logger: Pick<Logger, 'warn'>;
  config: Pick<Config, 'encryptionKey' | 'batches'> & SubmissionLimitsConfig;
  /** Submissions per person (src/http/rate-limit.ts): refused with 429 before anything is checked or stored. */
  submissionLimit: RequestHandler;
  /** File previews per person: each reads a document, so they are bounded too (counted apart from submissions). */
  previewLimit: RequestHandler;
}

/** What the student typed, shown again when the form is refused (never the file: browsers cannot refill one). */
export interface FormState {
  text: string;
  format: 'text' | 'markdown';
  message?: string;
  fields: Record<string, string>;
  /** The grading choice made (consent ticked, or grading by hand), kept when the form is shown again. */
  consent?: string;
  grading?: string;
  /** Set after a submission: by the LLM's queue, or by hand. */
  submitted?: 'llm' | 'hand';
  /** What was read from the file the student chose (POST …/submissions/preview), or why it cannot be read. */
  preview?: FilePreview;
}

/** A fresh, empty form (a new object each time: a page may add to its fields). */
export const emptyForm = (): FormState => ({ text: '', format: 'text', fields: {} });

/** The task of the request: an active task of the student's course, else "not found". */
export async function activeTask(deps: StudentRouteDeps, req: Request, actor: Actor): Promise<TaskRow> {
  const task = await findTaskInCourse(deps.db, courseOf(actor), idParam(req.params.taskId, 'The task'));
  if (!task || task.status !== 'active') throw NotFound('The task');
  return task;
}

/** What the page says after a priority request: that it is under way, or why it was refused. */
export type PriorityMessage = { text: string; error: boolean };

/**
 * The submissions list (polled by itself while anything is still on its way), with the student's priority requests
 * where the course offers them: an "Ask for priority grading" button on work still waiting in the queue while any are left.
 */
async function submissionsModel(deps: StudentRouteDeps, task: TaskRow, actor: Actor, priorityMessage: PriorityMessage | null) {
  const [statuses, escalation] = await Promise.all([
    studentSubmissionStatuses(deps.db, { taskId: task.id }, actor.userId, deps.config.batches.maxSize),
    studentEscalation(deps.db, { platformId: actor.platformId, courseId: courseOf(actor) }, actor.userId),
  ]);
  return {
    taskId: task.id,
    priority: escalation.allowed ? { left: escalation.left, limit: escalation.limit } : null,
    priorityMessage,
    polling: statuses.some((s) => !TERMINAL.has(s.status)),
    submissions: statuses.map((s) => ({
      id: s.submissionId,
      attempt: s.attempt,
      late: s.late,
      score: s.score ? `${formatScore(s.score.value)} / ${formatScore(s.score.max)}` : null,
      submittedAt: formatDateTime(s.submittedAt),
      submittedAtIso: s.submittedAt.toISOString(),
      status: s.status,
      statusLabel: s.statusLabel,
      position: s.position,
      etaLabel: s.etaLabel,
      etaIso: s.eta?.toISOString() ?? null,
      detail: s.detail,
      feedbackReleased: s.feedbackReleased,
      // Still waiting in the queue, in no batch: the only work a priority request can take out of it.
      canAskPriority: escalation.allowed && s.status === 'queued',
    })),
  };
}

/** Why the form is not shown (the service refuses the same cases). With LLM assessment off, work is graded by hand. */
function closedReason(task: TaskRow, llmAllowed: boolean, hasPrompt: boolean, used: number, now: Date): string | null {
  if (task.dueAt && now > task.dueAt && task.latePolicy === 'refuse') return `This task was due on ${formatDateTime(task.dueAt)} and takes no late work.`;
  if (llmAllowed && !hasPrompt) return 'This task has no grading prompt yet, so it cannot take submissions. Your instructor must write one first.';
  if (used >= task.maxAttempts) return task.maxAttempts === 1 ? 'You have submitted this task; it allows one attempt.' : `You have used all ${task.maxAttempts} attempts for this task.`;
  return null;
}

/** The task page's working area: the form (or why there is none) and the submissions list. */
export async function workModel(deps: StudentRouteDeps, task: TaskRow, actor: Actor, form: FormState, priorityMessage: PriorityMessage | null = null) {
  const [privacy, version, used, list, consent] = await Promise.all([
    getCoursePrivacy(deps.db, courseOf(actor)),
    findActiveVersion(deps.db, task.id),
    lastAttempt(deps.db, task.id, actor.userId),
    submissionsModel(deps, task, actor, priorityMessage),
    findStandingConsent(deps.db, courseOf(actor), actor.userId),
  ]);
  const now = new Date();
  return {
    task: {
      ...taskBasics(task),
      attemptsLabel: task.maxAttempts === 1 ? 'one attempt' : `up to ${task.maxAttempts} attempts (${task.attemptPolicy === 'best' ? 'your best one counts' : 'your last one counts'})`,
      due: task.dueAt ? { at: task.dueAt.toISOString(), text: formatDateTime(task.dueAt), passed: now > task.dueAt, late: task.latePolicy === 'accept' ? 'Work handed in after it is taken and marked late.' : 'Work is not taken after it.' } : null,
      waitingNote: task.waitingNote,
    },
    attempt: { next: used + 1, max: task.maxAttempts, left: Math.max(0, task.maxAttempts - used) },
    closed: closedReason(task, privacy.llmAllowed, Boolean(version), used, now),
    // How this attempt will be graded: by hand when the course has LLM assessment off.
    byHand: !privacy.llmAllowed,
    realtimeOnly: privacy.llmAllowed && privacy.realtimeOnly,
    consentRequired: privacy.llmAllowed && privacy.consentRequired,
    // A standing consent to the current words: the box is not shown again, the page says when it was given.
    consentGiven: consent?.wordingVersion === CURRENT_CONSENT.version ? formatDateTime(consent.givenAt) : null,
    consentWording: CURRENT_CONSENT.text,
    limits: {
      chars: deps.config.submissionMaxChars.toLocaleString('en'),
      file: formatSize(deps.config.submissionMaxFileBytes),
      document: formatSize(deps.config.submissionMaxDocumentBytes),
      pdfPages: deps.config.submissionMaxPdfPages.toLocaleString('en'),
    },
    acceptFiles: ACCEPTED_FILES,
    form,
    ...list,
  };
}

export async function showTask(deps: StudentRouteDeps, req: Request, res: Response, task: TaskRow, form: FormState, status = 200): Promise<void> {
  const actor = actorOf(res);
  render(req, res, 'pages/student/task', { title: task.title, ...(await workModel(deps, task, actor, form)) }, { status, fragment: 'partials/student/_task-work' });
}
