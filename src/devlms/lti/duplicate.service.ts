import { randomUUID } from 'node:crypto';
import type { DevLmsContext } from '../context.js';
import { findLineItemForLink, insertLineItem } from '../db/line-items.repository.js';
import { findLink, insertLink, type ResourceLink } from '../db/links.repository.js';
import { withTransaction } from '../db/queryable.js';

/**
 * Moodle's "Duplicate" on an activity (Canvas' "Duplicate" on an assignment does the same): a new resource link
 * with the same custom parameters (so the same task id of the tool) and its own gradebook column, a copy of the
 * original's. Tools must not take the copy for a new task of their own, nor move the original's grades to it.
 */
export async function duplicateLink(ctx: DevLmsContext, linkId: string): Promise<ResourceLink | null> {
  return withTransaction(ctx.pool, async (tx) => {
    const original = await findLink(tx, linkId);
    if (!original || original.placement !== 'assignment') return null;
    const copy = await insertLink(tx, { ...original, id: randomUUID(), title: `${original.title} (copy)` });
    const column = await findLineItemForLink(tx, original.id);
    if (column) {
      await insertLineItem(tx, { contextId: copy.contextId, clientId: copy.clientId }, { ...column, label: `${column.label} (copy)`, resourceLinkId: copy.id });
    }
    return copy;
  });
}
