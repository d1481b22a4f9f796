import { Router, type Request, type Response } from 'express';
import type { DevLmsContext } from '../context.js';
import { deleteLineItem, insertLineItem, listLineItems, lockLineItem, updateLineItem } from '../db/line-items.repository.js';
import { findActiveMemberBySub } from '../db/people.repository.js';
import { withTransaction } from '../db/queryable.js';
import { insertScoreUnlessOlder, listLatestScores } from '../db/scores.repository.js';
import { jsonError, jsonErrors } from '../http/errors.js';
import { jsonBodyOf, sendMedia } from '../http/media.js';
import { nextLink, offsetOf } from '../http/paging.js';
import { injectFaults, requireScope, serviceClient } from '../http/service-auth.js';
import { parseWith } from '../http/validate.js';
import { MEDIA_TYPE, SCOPE } from '../lti/claims.js';
import { courseOf, invalid, lineItemInputOf, lineItemOf } from './ags.lookup.js';
import { presentLineItem, presentResult } from './ags.present.js';
import { lineItemBodySchema, lineItemsQuerySchema, resultsQuerySchema, scoreBodySchema } from './ags.schema.js';

const READ = [SCOPE.lineItem, SCOPE.lineItemReadonly];

/** LTI Assignment and Grade Services 2.0: line items, scores and results of one course, per tool. */
export function agsRoutes(ctx: DevLmsContext): Router {
  const router = Router({ mergeParams: true });
  router.use(jsonErrors, injectFaults(ctx, 'ags'));
  router.get('/', requireScope(ctx, READ), (req, res) => sendLineItems(ctx, req, res));
  router.post('/', requireScope(ctx, [SCOPE.lineItem]), ...jsonBodyOf(MEDIA_TYPE.lineItem), (req, res) => createLineItem(ctx, req, res));
  router.get('/:id', requireScope(ctx, READ), (req, res) => sendLineItem(ctx, req, res));
  router.put('/:id', requireScope(ctx, [SCOPE.lineItem]), ...jsonBodyOf(MEDIA_TYPE.lineItem), (req, res) => replaceLineItem(ctx, req, res));
  router.delete('/:id', requireScope(ctx, [SCOPE.lineItem]), (req, res) => removeLineItem(ctx, req, res));
  router.post('/:id/scores', requireScope(ctx, [SCOPE.score]), scoreRateLimit(ctx), ...jsonBodyOf(MEDIA_TYPE.score), (req, res) => recordScore(ctx, req, res));
  router.get('/:id/results', requireScope(ctx, [SCOPE.resultReadonly]), (req, res) => sendResults(ctx, req, res));
  return router;
}

/** The score-post rate limit, when one is set (`/__faults` `scoreRate`): 429 with Retry-After past it. */
function scoreRateLimit(ctx: DevLmsContext) {
  return (_req: Request, _res: Response, next: (err?: unknown) => void) => {
    if (ctx.faults.takeScoreSlot()) return next();
    next(jsonError(429, 'rate_limited', 'Too many score posts: try again in a second.', { 'Retry-After': '1' }));
  };
}

/** GET the container: a page of the tool's line items, filtered as the query asks. */
async function sendLineItems(ctx: DevLmsContext, req: Request, res: Response): Promise<void> {
  const query = parseWith(lineItemsQuerySchema, req.query, invalid);
  const course = await courseOf(ctx, req);
  const page = await listLineItems(ctx.pool, {
    contextId: course.contextId,
    clientId: serviceClient(res.locals).clientId,
    resourceLinkId: query.resource_link_id,
    resourceId: query.resource_id,
    tag: query.tag,
    limit: query.limit,
    offset: offsetOf(query),
  });
  if (page.hasMore) res.set('Link', nextLink(ctx.endpoints.lineItems(course.contextId), query, query.page));
  sendMedia(res, 200, MEDIA_TYPE.lineItemContainer, page.items.map((li) => presentLineItem(ctx, li)));
}

async function createLineItem(ctx: DevLmsContext, req: Request, res: Response): Promise<void> {
  const body = parseWith(lineItemBodySchema, req.body, invalid);
  if (body.id !== undefined) throw invalid('id: is assigned by the platform; do not send it when creating a line item.');
  const course = await courseOf(ctx, req);
  const client = serviceClient(res.locals);
  const lineItem = await insertLineItem(ctx.pool, { contextId: course.contextId, clientId: client.clientId }, await lineItemInputOf(ctx, course, client, body));
  res.set('Location', ctx.endpoints.lineItem(course.contextId, lineItem.id));
  sendMedia(res, 201, MEDIA_TYPE.lineItem, presentLineItem(ctx, lineItem));
}

async function sendLineItem(ctx: DevLmsContext, req: Request, res: Response): Promise<void> {
  const { lineItem } = await lineItemOf(ctx, req, serviceClient(res.locals));
  sendMedia(res, 200, MEDIA_TYPE.lineItem, presentLineItem(ctx, lineItem));
}

async function replaceLineItem(ctx: DevLmsContext, req: Request, res: Response): Promise<void> {
  const client = serviceClient(res.locals);
  const { course, lineItem } = await lineItemOf(ctx, req, client);
  const body = parseWith(lineItemBodySchema, req.body, invalid);
  const url = ctx.endpoints.lineItem(course.contextId, lineItem.id);
  if (body.id !== undefined && body.id !== url) throw invalid(`id: "${body.id}" is not this line item (${url}).`);
  const updated = await updateLineItem(ctx.pool, { contextId: course.contextId, clientId: client.clientId }, lineItem.id, await lineItemInputOf(ctx, course, client, body));
  if (!updated) throw jsonError(404, 'not_found', `Line item ${lineItem.id} was deleted meanwhile.`);
  sendMedia(res, 200, MEDIA_TYPE.lineItem, presentLineItem(ctx, updated));
}

async function removeLineItem(ctx: DevLmsContext, req: Request, res: Response): Promise<void> {
  const client = serviceClient(res.locals);
  const { course, lineItem } = await lineItemOf(ctx, req, client);
  await deleteLineItem(ctx.pool, { contextId: course.contextId, clientId: client.clientId }, lineItem.id);
  res.status(204).end();
}

/** POST a score for an active member; the line item is locked so concurrent scores are compared one at a time. */
async function recordScore(ctx: DevLmsContext, req: Request, res: Response): Promise<void> {
  const client = serviceClient(res.locals);
  const { course, lineItem } = await lineItemOf(ctx, req, client);
  const body = parseWith(scoreBodySchema, req.body, invalid);
  if (!(await findActiveMemberBySub(ctx.pool, course.contextId, body.userId))) {
    throw jsonError(422, 'unknown_user', `userId "${body.userId}" is not an active member of ${course.contextId}.`);
  }
  const stored = await withTransaction(ctx.pool, async (tx) => {
    const locked = await lockLineItem(tx, { contextId: course.contextId, clientId: client.clientId }, lineItem.id);
    if (!locked) throw jsonError(404, 'not_found', `Line item ${lineItem.id} was deleted meanwhile.`);
    return insertScoreUnlessOlder(tx, {
      lineItemId: lineItem.id,
      clientId: client.clientId,
      userSub: body.userId,
      scoreGiven: body.scoreGiven ?? null,
      scoreMaximum: body.scoreMaximum ?? null,
      comment: body.comment ?? null,
      activityProgress: body.activityProgress,
      gradingProgress: body.gradingProgress,
      timestamp: new Date(body.timestamp),
    });
  });
  // AGS lets the platform ignore an update older than the stored one; the header says which happened.
  res.set('DevLms-Score', stored ? 'accepted' : 'ignored-older-timestamp').status(204).end();
}

async function sendResults(ctx: DevLmsContext, req: Request, res: Response): Promise<void> {
  const query = parseWith(resultsQuerySchema, req.query, invalid);
  const { course, lineItem } = await lineItemOf(ctx, req, serviceClient(res.locals));
  const page = await listLatestScores(ctx.pool, lineItem.id, { userSub: query.user_id, limit: query.limit, offset: offsetOf(query) });
  const url = ctx.endpoints.lineItem(course.contextId, lineItem.id);
  if (page.hasMore) res.set('Link', nextLink(`${url}/results`, query, query.page));
  sendMedia(res, 200, MEDIA_TYPE.resultContainer, page.scores.map((s) => presentResult(url, lineItem, s)));
}
