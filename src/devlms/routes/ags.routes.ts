import { Router, type Request } from 'express';
import type { DevLmsContext } from '../context.js';
import {
  deleteLineItem, findLineItem, insertLineItem, listLineItems, lockLineItem, updateLineItem, type LineItem, type LineItemInput,
} from '../db/line-items.repository.js';
import { findLink } from '../db/links.repository.js';
import { findActiveMemberBySub, findCourse, type Course } from '../db/people.repository.js';
import { withTransaction } from '../db/queryable.js';
import { insertScoreUnlessOlder, listLatestScores, type Score } from '../db/scores.repository.js';
import { jsonError, jsonErrors } from '../http/errors.js';
import { jsonBodyOf, sendMedia } from '../http/media.js';
import { nextLink, offsetOf } from '../http/paging.js';
import { injectFaults, requireScope, serviceClient, type ServiceClient } from '../http/service-auth.js';
import { parseWith } from '../http/validate.js';
import { MEDIA_TYPE, SCOPE } from '../lti/claims.js';
import {
  lineItemBodySchema, lineItemIdSchema, lineItemsQuerySchema, resultsQuerySchema, scoreBodySchema, type LineItemBody,
} from './ags.schema.js';

const invalid = (m: string) => jsonError(400, 'invalid_request', m);
const READ = [SCOPE.lineItem, SCOPE.lineItemReadonly];

/** LTI Assignment and Grade Services 2.0: line items, scores and results of one course, per tool. */
export function agsRoutes(ctx: DevLmsContext): Router {
  const router = Router({ mergeParams: true });
  router.use(jsonErrors, injectFaults(ctx, 'ags'));

  async function courseOf(req: Request): Promise<Course> {
    const course = await findCourse(ctx.pool, String(req.params.contextId));
    if (!course) throw jsonError(404, 'not_found', `There is no course "${String(req.params.contextId)}".`);
    return course;
  }

  async function lineItemOf(req: Request, client: ServiceClient): Promise<{ course: Course; lineItem: LineItem }> {
    const course = await courseOf(req);
    const id = lineItemIdSchema.safeParse(req.params.id);
    const lineItem = id.success ? await findLineItem(ctx.pool, { contextId: course.contextId, clientId: client.clientId }, id.data) : null;
    if (!lineItem) throw jsonError(404, 'not_found', `Line item ${String(req.params.id)} does not exist in ${course.contextId} for this tool.`);
    return { course, lineItem };
  }

  /** Checks a line item body against the course: a resourceLinkId must be one of this tool's links there. */
  async function toInput(course: Course, client: ServiceClient, body: LineItemBody): Promise<LineItemInput> {
    if (body.resourceLinkId) {
      const link = await findLink(ctx.pool, body.resourceLinkId);
      if (!link || link.contextId !== course.contextId || link.clientId !== client.clientId) {
        throw invalid(`resourceLinkId "${body.resourceLinkId}" is not a link of this tool in ${course.contextId}.`);
      }
    }
    return {
      label: body.label,
      scoreMaximum: body.scoreMaximum,
      resourceLinkId: body.resourceLinkId ?? null,
      resourceId: body.resourceId ?? null,
      tag: body.tag ?? null,
      startDateTime: body.startDateTime ? new Date(body.startDateTime) : null,
      endDateTime: body.endDateTime ? new Date(body.endDateTime) : null,
    };
  }

  const present = (li: LineItem) => ({
    id: ctx.endpoints.lineItem(li.contextId, li.id),
    label: li.label,
    scoreMaximum: li.scoreMaximum,
    ...(li.resourceLinkId ? { resourceLinkId: li.resourceLinkId } : {}),
    ...(li.resourceId !== null ? { resourceId: li.resourceId } : {}),
    ...(li.tag !== null ? { tag: li.tag } : {}),
    ...(li.startDateTime ? { startDateTime: li.startDateTime.toISOString() } : {}),
    ...(li.endDateTime ? { endDateTime: li.endDateTime.toISOString() } : {}),
  });

  router.get('/', requireScope(ctx, READ), async (req, res) => {
    const query = parseWith(lineItemsQuerySchema, req.query, invalid);
    const course = await courseOf(req);
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
    sendMedia(res, 200, MEDIA_TYPE.lineItemContainer, page.items.map(present));
  });

  router.post('/', requireScope(ctx, [SCOPE.lineItem]), ...jsonBodyOf(MEDIA_TYPE.lineItem), async (req, res) => {
    const body = parseWith(lineItemBodySchema, req.body, invalid);
    if (body.id !== undefined) throw invalid('id: is assigned by the platform; do not send it when creating a line item.');
    const course = await courseOf(req);
    const client = serviceClient(res.locals);
    const lineItem = await insertLineItem(ctx.pool, { contextId: course.contextId, clientId: client.clientId }, await toInput(course, client, body));
    res.set('Location', ctx.endpoints.lineItem(course.contextId, lineItem.id));
    sendMedia(res, 201, MEDIA_TYPE.lineItem, present(lineItem));
  });

  router.get('/:id', requireScope(ctx, READ), async (req, res) => {
    const { lineItem } = await lineItemOf(req, serviceClient(res.locals));
    sendMedia(res, 200, MEDIA_TYPE.lineItem, present(lineItem));
  });

  router.put('/:id', requireScope(ctx, [SCOPE.lineItem]), ...jsonBodyOf(MEDIA_TYPE.lineItem), async (req, res) => {
    const client = serviceClient(res.locals);
    const { course, lineItem } = await lineItemOf(req, client);
    const body = parseWith(lineItemBodySchema, req.body, invalid);
    const url = ctx.endpoints.lineItem(course.contextId, lineItem.id);
    if (body.id !== undefined && body.id !== url) throw invalid(`id: "${body.id}" is not this line item (${url}).`);
    const updated = await updateLineItem(ctx.pool, { contextId: course.contextId, clientId: client.clientId }, lineItem.id, await toInput(course, client, body));
    if (!updated) throw jsonError(404, 'not_found', `Line item ${lineItem.id} was deleted meanwhile.`);
    sendMedia(res, 200, MEDIA_TYPE.lineItem, present(updated));
  });

  router.delete('/:id', requireScope(ctx, [SCOPE.lineItem]), async (req, res) => {
    const client = serviceClient(res.locals);
    const { course, lineItem } = await lineItemOf(req, client);
    await deleteLineItem(ctx.pool, { contextId: course.contextId, clientId: client.clientId }, lineItem.id);
    res.status(204).end();
  });

  router.post('/:id/scores', requireScope(ctx, [SCOPE.score]), ...jsonBodyOf(MEDIA_TYPE.score), async (req, res) => {
    const client = serviceClient(res.locals);
    const { course, lineItem } = await lineItemOf(req, client);
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
  });

  router.get('/:id/results', requireScope(ctx, [SCOPE.resultReadonly]), async (req, res) => {
    const query = parseWith(resultsQuerySchema, req.query, invalid);
    const { course, lineItem } = await lineItemOf(req, serviceClient(res.locals));
    const page = await listLatestScores(ctx.pool, lineItem.id, { userSub: query.user_id, limit: query.limit, offset: offsetOf(query) });
    const url = ctx.endpoints.lineItem(course.contextId, lineItem.id);
    if (page.hasMore) res.set('Link', nextLink(`${url}/results`, query, query.page));
    sendMedia(res, 200, MEDIA_TYPE.resultContainer, page.scores.map((s) => presentResult(url, lineItem, s)));
  });

  return router;
}

/** A result is the latest score, rescaled to the line item's maximum (as Canvas reports it). */
function presentResult(lineItemUrl: string, lineItem: LineItem, s: Score) {
  const scaled = s.scoreGiven !== null && s.scoreMaximum ? Math.round((s.scoreGiven / s.scoreMaximum) * lineItem.scoreMaximum * 1e6) / 1e6 : null;
  return {
    id: `${lineItemUrl}/results/${encodeURIComponent(s.userSub)}`,
    scoreOf: lineItemUrl,
    userId: s.userSub,
    ...(scaled !== null ? { resultScore: scaled } : {}),
    resultMaximum: lineItem.scoreMaximum,
    ...(s.comment !== null ? { comment: s.comment } : {}),
    timestamp: s.timestamp.toISOString(),
  };
}
