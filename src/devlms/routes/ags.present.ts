import type { DevLmsContext } from '../context.js';
import type { LineItem } from '../db/line-items.repository.js';
import type { Score } from '../db/scores.repository.js';

/** A line item as AGS sends it: its URL as id, and the optional fields only when set. */
export function presentLineItem(ctx: DevLmsContext, li: LineItem) {
  return {
    id: ctx.endpoints.lineItem(li.contextId, li.id),
    label: li.label,
    scoreMaximum: li.scoreMaximum,
    ...(li.resourceLinkId ? { resourceLinkId: li.resourceLinkId } : {}),
    ...(li.resourceId !== null ? { resourceId: li.resourceId } : {}),
    ...(li.tag !== null ? { tag: li.tag } : {}),
    ...(li.startDateTime ? { startDateTime: li.startDateTime.toISOString() } : {}),
    ...(li.endDateTime ? { endDateTime: li.endDateTime.toISOString() } : {}),
  };
}

/** A result is the latest score, rescaled to the line item's maximum (as Canvas reports it). */
export function presentResult(lineItemUrl: string, lineItem: LineItem, s: Score) {
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
