import type { Queryable } from './queryable.js';

/** A tool registered with the platform: one client id, one deployment, its URLs and granted scopes. */
export interface Registration {
  clientId: string;
  deploymentId: string;
  name: string;
  initiateLoginUri: string;
  targetLinkUri: string;
  /** Where LtiDeepLinkingRequest launches go; null when the tool did not ask for deep linking. */
  deepLinkUri: string | null;
  redirectUris: string[];
  jwksUri: string;
  scopes: string[];
  /** Custom parameters sent with every launch of this tool (values may be substitution variables). */
  custom: Record<string, string>;
  source: 'seed' | 'dynamic';
  toolConfiguration: unknown;
}

interface Row {
  client_id: string;
  deployment_id: string;
  name: string;
  initiate_login_uri: string;
  target_link_uri: string;
  deep_link_uri: string | null;
  redirect_uris: string[];
  jwks_uri: string;
  scopes: string[];
  custom: Record<string, string>;
  source: 'seed' | 'dynamic';
  tool_configuration: unknown;
}

const COLUMNS = `client_id, deployment_id, name, initiate_login_uri, target_link_uri, deep_link_uri, redirect_uris,
  jwks_uri, scopes, custom, source, tool_configuration`;

function toRegistration(r: Row): Registration {
  return {
    clientId: r.client_id,
    deploymentId: r.deployment_id,
    name: r.name,
    initiateLoginUri: r.initiate_login_uri,
    targetLinkUri: r.target_link_uri,
    deepLinkUri: r.deep_link_uri,
    redirectUris: r.redirect_uris,
    jwksUri: r.jwks_uri,
    scopes: r.scopes,
    custom: r.custom,
    source: r.source,
    toolConfiguration: r.tool_configuration,
  };
}

function values(r: Registration): unknown[] {
  return [
    r.clientId, r.deploymentId, r.name, r.initiateLoginUri, r.targetLinkUri, r.deepLinkUri, r.redirectUris,
    r.jwksUri, r.scopes, JSON.stringify(r.custom), r.source, r.toolConfiguration === undefined ? null : JSON.stringify(r.toolConfiguration),
  ];
}

export async function findRegistration(q: Queryable, clientId: string): Promise<Registration | null> {
  const res = await q.query<Row>(`select ${COLUMNS} from devlms.registrations where client_id = $1`, [clientId]);
  return res.rows[0] ? toRegistration(res.rows[0]) : null;
}

export async function listRegistrations(q: Queryable): Promise<Registration[]> {
  const res = await q.query<Row>(`select ${COLUMNS} from devlms.registrations order by created_at, client_id`);
  return res.rows.map(toRegistration);
}

export async function insertRegistration(q: Queryable, r: Registration): Promise<void> {
  await q.query(`insert into devlms.registrations (${COLUMNS}) values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`, values(r));
}

/** The seeded registration follows the options of each start (a demo restarted on another tool port keeps working). */
export async function upsertRegistration(q: Queryable, r: Registration): Promise<void> {
  await q.query(
    `insert into devlms.registrations (${COLUMNS}) values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
     on conflict (client_id) do update set deployment_id = excluded.deployment_id, name = excluded.name,
       initiate_login_uri = excluded.initiate_login_uri, target_link_uri = excluded.target_link_uri,
       deep_link_uri = excluded.deep_link_uri, redirect_uris = excluded.redirect_uris, jwks_uri = excluded.jwks_uri,
       scopes = excluded.scopes, custom = excluded.custom`,
    values(r),
  );
}

/** Deployment ids for dynamically registered tools: 2, 3, … (the seeded tool is deployment 1, like a Moodle tool type id). */
export async function nextDeploymentId(q: Queryable): Promise<string> {
  const res = await q.query<{ id: string }>("select nextval('devlms.deployment_ids')::text as id");
  return res.rows[0]!.id;
}
