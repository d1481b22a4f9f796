import type { Request } from 'express';
import type { DevLmsContext } from '../context.js';
import { findLineItem, type LineItem, type LineItemInput } from '../db/line-items.repository.js';
import { findLink } from '../db/links.repository.js';
import { findCourse, type Course } from '../db/people.repository.js';
import { jsonError } from '../http/errors.js';
import type { ServiceClient } from '../http/service-auth.js';
import { lineItemIdSchema, type LineItemBody } from './ags.schema.js';

/** What the AGS routes look up from a request's path and body, checked against the course and the calling tool. */

export const invalid = (m: string) => jsonError(400, 'invalid_request', m);

/** The course of the path's :contextId, or 404. */
export async function courseOf(ctx: DevLmsContext, req: Request): Promise<Course> {
  const course = await findCourse(ctx.pool, String(req.params.contextId));
  if (!course) throw jsonError(404, 'not_found', `There is no course "${String(req.params.contextId)}".`);
  return course;
}

/** The path's line item, or 404 when it does not exist in that course for the calling tool. */
export async function lineItemOf(ctx: DevLmsContext, req: Request, client: ServiceClient): Promise<{ course: Course; lineItem: LineItem }> {
  const course = await courseOf(ctx, req);
  const id = lineItemIdSchema.safeParse(req.params.id);
  const lineItem = id.success ? await findLineItem(ctx.pool, { contextId: course.contextId, clientId: client.clientId }, id.data) : null;
  if (!lineItem) throw jsonError(404, 'not_found', `Line item ${String(req.params.id)} does not exist in ${course.contextId} for this tool.`);
  return { course, lineItem };
}

/** Checks a line item body against the course: a resourceLinkId must be one of this tool's links there. */
export async function lineItemInputOf(ctx: DevLmsContext, course: Course, client: ServiceClient, body: LineItemBody): Promise<LineItemInput> {
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
