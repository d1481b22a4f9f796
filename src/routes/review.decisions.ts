import type { Request, Response } from 'express';
import type { Config } from '../config.js';
import type { RootDb } from '../db/db.js';
import { actorOf, courseOf, type Actor } from '../lti/actor.js';
import { BadRequest, HttpError } from '../errors.js';
import { render } from '../http/render.js';
import { listForReview } from '../models/assessments/review.repository.js';
import { loadReview } from '../models/assessments/review-page.service.js';
import { approveAssessment, overrideAssessment, rejectAssessment, retryGradeSync, type Reviewer } from '../models/assessments/review.service.js';
import { parseOverride, parseReject } from '../models/assessments/review.schema.js';
import { enqueueSoon, type Jobs } from '../job-queue.js';
import type { Logger } from '../log.js';
import { idParam } from './params.js';
import { presentAppeal, presentReview } from './review.present.js';
import { findAppealOfAssessment } from '../models/appeals/appeals.repository.js';
import { answerAppeal } from '../models/appeals/appeals.service.js';
import { appealResolutionSchema } from '../models/appeals/appeals.schema.js';
import { parseInput } from '../validation.js';
import { decisionSeqSchema } from './review.schema.js';

/* One assessment's review page and the decisions taken on it: approve, override, reject, send the grade again. */

export interface ReviewDeps {
  db: RootDb;
  config: Config;
  logger: Logger;
  jobs?: Jobs;
}

/** What a page says back after an action: a message, refusals beside the fields, the values typed. */
export interface Notice {
  message?: string;
  fields?: Record<string, string>;
  values?: Record<string, unknown>;
  status?: number;
}

export function reviewerOf(actor: Actor): Reviewer {
  return { platformId: actor.platformId, courseId: courseOf(actor), userId: actor.userId };
}

const assessmentIdOf = (req: Request) => idParam(req.params.assessmentId, 'The assessment');

async function showReview({ db, config }: ReviewDeps, req: Request, res: Response, id: number, notice: Notice = {}): Promise<void> {
  const who = reviewerOf(actorOf(res));
  const data = await loadReview(db, config, { courseId: who.courseId }, id);
  const [nextRows, appeal] = await Promise.all([listForReview(db, { courseId: who.courseId }, { status: 'pending' }, 2), findAppealOfAssessment(db, who.courseId, id)]);
  const next = nextRows.find((i) => i.id !== id);
  render(
    req,
    res,
    'pages/instructor/review',
    { title: `Review: ${data.context.taskTitle}`, a: presentReview(data), appeal: appeal ? presentAppeal(appeal) : null, nextId: next?.id ?? null, message: notice.message ?? null, fields: notice.fields ?? {}, values: notice.values ?? {} },
    { status: notice.status, fragment: 'partials/review/_decision' },
  );
}

/** Runs a decision; a 422 re-renders the decision panel with messages beside the fields and the values typed. */
async function decide(deps: ReviewDeps, req: Request, res: Response, id: number, action: (who: Reviewer) => Promise<{ gradeSyncStatus: string; releasedAt: Date | null }>, done: string): Promise<void> {
  const who = reviewerOf(actorOf(res));
  let row;
  try {
    row = await action(who);
  } catch (err) {
    if (err instanceof HttpError && err.status === 422) return showReview(deps, req, res, id, { fields: err.fields, values: req.body ?? {}, status: 422, message: err.message });
    throw err;
  }
  // The decision made the sync pending: this sends it now rather than at the recurring sync.
  if (row.gradeSyncStatus === 'pending') await enqueueSoon(deps.jobs, deps.logger, 'sync-grades', { assessmentId: id });
  // A released result owes its student an e-mail: sent now rather than at the next recurring run.
  if (row.releasedAt) await enqueueSoon(deps.jobs, deps.logger, 'send-email', {});
  await showReview(deps, req, res, id, { message: done });
}

export async function openReview(deps: ReviewDeps, req: Request, res: Response): Promise<void> {
  await showReview(deps, req, res, assessmentIdOf(req));
}

export async function approve(deps: ReviewDeps, req: Request, res: Response): Promise<void> {
  const id = assessmentIdOf(req);
  const parsed = decisionSeqSchema.safeParse(req.body ?? {});
  if (!parsed.success) throw BadRequest('This form is out of date: reload the page and decide again.');
  await decide(deps, req, res, id, (who) => deps.db.transaction((tx) => approveAssessment(tx, who, id, parsed.data.decisionSeq)), 'Approved. The grade goes to the LMS gradebook and the student can see the feedback.');
}

export async function override(deps: ReviewDeps, req: Request, res: Response): Promise<void> {
  const id = assessmentIdOf(req);
  await decide(
    deps,
    req,
    res,
    id,
    (who) => {
      const input = parseOverride(req.body);
      return deps.db.transaction((tx) => overrideAssessment(tx, deps.config, who, id, input));
    },
    'Overridden. Your grade goes to the LMS gradebook; the model\'s result is kept beside it.',
  );
}

export async function reject(deps: ReviewDeps, req: Request, res: Response): Promise<void> {
  const id = assessmentIdOf(req);
  await decide(deps, req, res, id, (who) => {
    const input = parseReject(req.body);
    return deps.db.transaction((tx) => rejectAssessment(tx, deps.config, who, id, input));
  }, 'Rejected. The student sees nothing of this assessment.');
}

/** The answer to a student's appeal: uphold, or change the grade (with the override's rules), with a reply. */
export async function answerAppealOf(deps: ReviewDeps, req: Request, res: Response): Promise<void> {
  const id = assessmentIdOf(req);
  await decide(
    deps,
    req,
    res,
    id,
    async (who) => {
      const input = parseInput(appealResolutionSchema, req.body ?? {}, { depth: 2 });
      const grade = input.outcome === 'change' ? parseOverride(req.body) : undefined;
      const { assessment } = await deps.db.transaction((tx) => answerAppeal(tx, deps.config, who, id, input, grade));
      return { gradeSyncStatus: assessment?.gradeSyncStatus ?? 'none', releasedAt: assessment?.releasedAt ?? null };
    },
    'Appeal answered. The student can read your reply with their feedback.',
  );
}

export async function retrySync(deps: ReviewDeps, req: Request, res: Response): Promise<void> {
  const id = assessmentIdOf(req);
  await decide(deps, req, res, id, (who) => deps.db.transaction((tx) => retryGradeSync(tx, who, id)), 'The grade will be sent to the LMS gradebook again shortly.');
}
