import { Router, type Request, type Response } from 'express';
import type { Config } from '../config.js';
import type { RootDb } from '../db/db.js';
import { actorOf, allow, courseOf, type Actor } from '../lti/actor.js';
import { HttpError, NotFound } from '../errors.js';
import { findAssessmentInScope, listForReview, type AssessmentScope } from '../models/assessments/review.repository.js';
import { approveAssessment, overrideAssessment, rejectAssessment } from '../models/assessments/review.service.js';
import { parseOverride, parseReject } from '../models/assessments/review.schema.js';
import { readableTexts } from '../models/assessments/assessment-texts.js';
import { loadReview } from '../models/assessments/review-page.service.js';
import { enqueueSoon, type Jobs } from '../job-queue.js';
import type { Logger } from '../log.js';
import { idParam } from './params.js';
import { assessmentJson } from './review.present.js';
import { apiReviewSchema, parseReviewQuery, toListFilter } from './review.schema.js';
import { fieldsOf } from '../validation.js';
import { withDeps } from './handlers.js';

/** Instructors see their course; administrators their platform (read only). */
function scopeOf(actor: Actor): AssessmentScope {
  return actor.role === 'administrator' ? { platformId: actor.platformId } : { courseId: courseOf(actor) };
}

function send(res: Response, body: unknown, status = 200) {
  res.status(status).setHeader('Cache-Control', 'no-store');
  res.json(body);
}

type ReviewApiDeps = { db: RootDb; config: Config; logger: Logger; jobs?: Jobs };

/** The review area's JSON API (openapi/paths/assessments.yaml). */
export function reviewApiRoutes(deps: ReviewApiDeps): Router {
  const on = withDeps(deps);
  const router = Router();
  router.get('/api/llm-assessments/pending-review/', allow('instructor', 'administrator'), on(listPending));
  router.get('/api/llm-assessments/:id/', allow('instructor', 'administrator'), on(showAssessment));
  router.post('/api/llm-assessments/:id/review/', allow('instructor'), on(reviewAssessment));
  return router;
}

async function listPending({ db }: ReviewApiDeps, req: Request, res: Response): Promise<void> {
  const { query, fields } = parseReviewQuery({ ...(req.query as Record<string, unknown>), status: 'pending' });
  if (Object.keys(fields).length) throw new HttpError(422, 'invalid', 'Please correct the query parameters.', fields);
  const items = await listForReview(db, scopeOf(actorOf(res)), toListFilter(query));
  send(res, {
    items: items.map((i) => ({
      id: i.id,
      taskId: i.taskId,
      taskTitle: i.taskTitle,
      studentName: i.studentName,
      attempt: i.attempt,
      score: i.score,
      maxScore: i.maxScore,
      computedConfidence: i.computedConfidence,
      flags: i.flags,
      needsReview: i.needsReview,
      decisionSeq: i.decisionSeq,
      createdAt: i.createdAt.toISOString(),
    })),
  });
}

async function showAssessment({ db, config }: ReviewApiDeps, req: Request, res: Response): Promise<void> {
  const actor = actorOf(res);
  const id = idParam(req.params.id, 'The assessment');
  if (actor.role === 'administrator') {
    const a = await findAssessmentInScope(db, scopeOf(actor), id);
    if (!a) throw NotFound('The assessment');
    return send(res, assessmentJson(readableTexts(config.encryptionKey, a)));
  }
  // The course's instructor also gets what the model was given: the work and the prompt as sent (issue 18, item 9).
  const review = await loadReview(db, config, scopeOf(actor), id);
  send(res, {
    ...assessmentJson(review.assessment),
    submission: { text: review.text, unavailable: review.text === null ? review.textUnavailable : null, format: review.context.contentFormat },
    promptAsSent: { anonymized: review.anonymized, messages: review.messages },
  });
}

async function reviewAssessment(deps: ReviewApiDeps, req: Request, res: Response): Promise<void> {
  const { db, config } = deps;
  const actor = actorOf(res);
  const id = idParam(req.params.id, 'The assessment');
  const parsed = apiReviewSchema.safeParse(req.body ?? {});
  if (!parsed.success) {
    throw new HttpError(422, 'invalid', 'The review decision is not valid: action (approve, override or reject) and decisionSeq are required.', fieldsOf(parsed.error, { fallback: 'action' }));
  }
  const who = { platformId: actor.platformId, courseId: courseOf(actor), userId: actor.userId };
  const body = parsed.data;
  // The same rules as the page's forms (trimmed texts, their lengths): one parse per decision.
  const decision = body.action === 'override' ? { ...body, input: parseOverride(body) } : body.action === 'reject' ? { ...body, input: parseReject(body) } : body;
  const row = await db.transaction(async (tx) => {
    if (decision.action === 'approve') return approveAssessment(tx, who, id, decision.decisionSeq);
    if (decision.action === 'override') return overrideAssessment(tx, config, who, id, decision.input);
    return rejectAssessment(tx, config, who, id, decision.input);
  });
  // The decision made the sync pending: this sends it now rather than at the recurring sync.
  if (row.gradeSyncStatus === 'pending') await enqueueSoon(deps.jobs, deps.logger, 'sync-grades', { assessmentId: row.id });
  if (row.releasedAt) await enqueueSoon(deps.jobs, deps.logger, 'send-email', {});
  send(res, assessmentJson(readableTexts(config.encryptionKey, row)));
}
