import type { Queryable } from './queryable.js';

/** An LTI resource link placed in a course: an assignment-like task, or the course navigation entry. */
export interface ResourceLink {
  id: string;
  contextId: string;
  clientId: string;
  placement: 'assignment' | 'course_navigation';
  position: number;
  title: string;
  description: string | null;
  /** null: launch the tool's registered target (seeded links follow the tool URL of each start). */
  targetLinkUri: string | null;
  custom: Record<string, string>;
}

interface Row {
  id: string;
  context_id: string;
  client_id: string;
  placement: 'assignment' | 'course_navigation';
  position: number;
  title: string;
  description: string | null;
  target_link_uri: string | null;
  custom: Record<string, string>;
}

const COLUMNS = 'id, context_id, client_id, placement, position, title, description, target_link_uri, custom';

function toLink(r: Row): ResourceLink {
  return {
    id: r.id,
    contextId: r.context_id,
    clientId: r.client_id,
    placement: r.placement,
    position: r.position,
    title: r.title,
    description: r.description,
    targetLinkUri: r.target_link_uri,
    custom: r.custom,
  };
}

export async function findLink(q: Queryable, id: string): Promise<ResourceLink | null> {
  const res = await q.query<Row>(`select ${COLUMNS} from devlms.resource_links where id = $1`, [id]);
  return res.rows[0] ? toLink(res.rows[0]) : null;
}

/** The course's links, in page order (assignments by position, then course navigation). */
export async function listLinks(q: Queryable, contextId: string, clientId?: string): Promise<ResourceLink[]> {
  const res = await q.query<Row>(
    `select ${COLUMNS} from devlms.resource_links where context_id = $1 and ($2::text is null or client_id = $2)
     order by placement, position, created_at`,
    [contextId, clientId ?? null],
  );
  return res.rows.map(toLink);
}

/** Inserts a link at the end of its course; the position is what `?task=<n>` counts. */
export async function insertLink(q: Queryable, link: Omit<ResourceLink, 'position'>): Promise<ResourceLink> {
  const res = await q.query<Row>(
    `insert into devlms.resource_links (id, context_id, client_id, placement, position, title, description, target_link_uri, custom)
     values ($1, $2, $3, $4,
       (select coalesce(max(position), 0) + 1 from devlms.resource_links where context_id = $2 and client_id = $3 and placement = $4),
       $5, $6, $7, $8)
     returning ${COLUMNS}`,
    [link.id, link.contextId, link.clientId, link.placement, link.title, link.description, link.targetLinkUri, JSON.stringify(link.custom)],
  );
  return toLink(res.rows[0]!);
}

/** For the seed: inserts the link unless it exists, and says whether it did (so its line item is made only once). */
export async function insertLinkIfAbsent(q: Queryable, link: ResourceLink): Promise<boolean> {
  const res = await q.query(
    `insert into devlms.resource_links (id, context_id, client_id, placement, position, title, description, target_link_uri, custom)
     values ($1, $2, $3, $4, $5, $6, $7, $8, $9) on conflict (id) do nothing`,
    [link.id, link.contextId, link.clientId, link.placement, link.position, link.title, link.description, link.targetLinkUri, JSON.stringify(link.custom)],
  );
  return res.rowCount === 1;
}
