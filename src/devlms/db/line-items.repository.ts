import type { Queryable } from './queryable.js';

/** What a tool may set on a line item (AGS lineitem body, read into columns). */
export interface LineItemInput {
  label: string;
  scoreMaximum: number;
  resourceLinkId: string | null;
  resourceId: string | null;
  tag: string | null;
  startDateTime: Date | null;
  endDateTime: Date | null;
}

/** A stored line item: the tool's fields, plus what the platform assigns (id) and scopes it by (course, tool). */
export interface LineItem extends LineItemInput {
  id: number;
  contextId: string;
  clientId: string;
}

interface Row {
  id: number;
  context_id: string;
  client_id: string;
  label: string;
  score_maximum: number;
  resource_link_id: string | null;
  resource_id: string | null;
  tag: string | null;
  start_date_time: Date | null;
  end_date_time: Date | null;
}

const COLUMNS = 'id, context_id, client_id, label, score_maximum, resource_link_id, resource_id, tag, start_date_time, end_date_time';

function toLineItem(r: Row): LineItem {
  return {
    id: r.id,
    contextId: r.context_id,
    clientId: r.client_id,
    label: r.label,
    scoreMaximum: r.score_maximum,
    resourceLinkId: r.resource_link_id,
    resourceId: r.resource_id,
    tag: r.tag,
    startDateTime: r.start_date_time,
    endDateTime: r.end_date_time,
  };
}

/**
 * A page of a tool's line items in a course. Each tool sees only its own line items, as in Canvas, where an
 * assignment belongs to the developer key that created it.
 */
export async function listLineItems(
  q: Queryable,
  filter: { contextId: string; clientId: string; resourceLinkId?: string; resourceId?: string; tag?: string; limit: number; offset: number },
): Promise<{ items: LineItem[]; hasMore: boolean }> {
  const res = await q.query<Row>(
    `select ${COLUMNS} from devlms.line_items
     where context_id = $1 and client_id = $2
       and ($3::text is null or resource_link_id = $3)
       and ($4::text is null or resource_id = $4)
       and ($5::text is null or tag = $5)
     order by id limit $6 offset $7`,
    [filter.contextId, filter.clientId, filter.resourceLinkId ?? null, filter.resourceId ?? null, filter.tag ?? null, filter.limit + 1, filter.offset],
  );
  return { items: res.rows.slice(0, filter.limit).map(toLineItem), hasMore: res.rows.length > filter.limit };
}

/** Every line item of a course, whatever tool made it (for the gradebook). */
export async function listCourseLineItems(q: Queryable, contextId: string): Promise<LineItem[]> {
  const res = await q.query<Row>(`select ${COLUMNS} from devlms.line_items where context_id = $1 order by id`, [contextId]);
  return res.rows.map(toLineItem);
}

export async function findLineItem(q: Queryable, scope: { contextId: string; clientId: string }, id: number): Promise<LineItem | null> {
  const res = await q.query<Row>(`select ${COLUMNS} from devlms.line_items where id = $1 and context_id = $2 and client_id = $3`, [
    id,
    scope.contextId,
    scope.clientId,
  ]);
  return res.rows[0] ? toLineItem(res.rows[0]) : null;
}

/** Locks the line item row, so concurrent scores for it are compared and stored one at a time. */
export async function lockLineItem(q: Queryable, scope: { contextId: string; clientId: string }, id: number): Promise<LineItem | null> {
  const res = await q.query<Row>(
    `select ${COLUMNS} from devlms.line_items where id = $1 and context_id = $2 and client_id = $3 for update`,
    [id, scope.contextId, scope.clientId],
  );
  return res.rows[0] ? toLineItem(res.rows[0]) : null;
}

/** The line item bound to a resource link (the first, if a tool bound several), for the launch's AGS claim. */
export async function findLineItemForLink(q: Queryable, resourceLinkId: string): Promise<LineItem | null> {
  const res = await q.query<Row>(`select ${COLUMNS} from devlms.line_items where resource_link_id = $1 order by id limit 1`, [resourceLinkId]);
  return res.rows[0] ? toLineItem(res.rows[0]) : null;
}

export async function insertLineItem(q: Queryable, scope: { contextId: string; clientId: string }, li: LineItemInput): Promise<LineItem> {
  const res = await q.query<Row>(
    `insert into devlms.line_items (context_id, client_id, label, score_maximum, resource_link_id, resource_id, tag, start_date_time, end_date_time)
     values ($1, $2, $3, $4, $5, $6, $7, $8, $9) returning ${COLUMNS}`,
    [scope.contextId, scope.clientId, li.label, li.scoreMaximum, li.resourceLinkId, li.resourceId, li.tag, li.startDateTime, li.endDateTime],
  );
  return toLineItem(res.rows[0]!);
}

export async function updateLineItem(
  q: Queryable,
  scope: { contextId: string; clientId: string },
  id: number,
  li: LineItemInput,
): Promise<LineItem | null> {
  const res = await q.query<Row>(
    `update devlms.line_items set label = $4, score_maximum = $5, resource_link_id = $6, resource_id = $7, tag = $8,
       start_date_time = $9, end_date_time = $10
     where id = $1 and context_id = $2 and client_id = $3 returning ${COLUMNS}`,
    [id, scope.contextId, scope.clientId, li.label, li.scoreMaximum, li.resourceLinkId, li.resourceId, li.tag, li.startDateTime, li.endDateTime],
  );
  return res.rows[0] ? toLineItem(res.rows[0]) : null;
}

export async function deleteLineItem(q: Queryable, scope: { contextId: string; clientId: string }, id: number): Promise<boolean> {
  const res = await q.query('delete from devlms.line_items where id = $1 and context_id = $2 and client_id = $3', [id, scope.contextId, scope.clientId]);
  return res.rowCount === 1;
}
