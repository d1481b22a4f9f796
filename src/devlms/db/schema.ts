import type { Queryable } from './queryable.js';

/**
 * The dev LMS stands in for a third party, so it owns its tables in its own schema and creates them itself
 * (no project migrations): the demo points it at a separate database, tests at the test file's database.
 * Ids are `integer` and scores `double precision` so rows parse to numbers whatever pg type parsers the
 * host process installed.
 */
const DDL = `
create schema if not exists devlms;

create table if not exists devlms.secrets (
  name text primary key,
  value text not null,
  created_at timestamptz not null default now()
);

create table if not exists devlms.platform_keys (
  kid text primary key,
  private_jwk jsonb not null,
  public_jwk jsonb not null,
  created_at timestamptz not null default now()
);

create sequence if not exists devlms.deployment_ids start with 2;

create table if not exists devlms.registrations (
  client_id text primary key,
  deployment_id text not null unique,
  name text not null,
  initiate_login_uri text not null,
  target_link_uri text not null,
  deep_link_uri text,
  redirect_uris text[] not null,
  jwks_uri text not null,
  scopes text[] not null,
  custom jsonb not null default '{}',
  source text not null check (source in ('seed', 'dynamic')),
  tool_configuration jsonb,
  created_at timestamptz not null default now()
);

create table if not exists devlms.courses (
  context_id text primary key,
  label text not null,
  title text not null
);

create table if not exists devlms.users (
  login text primary key,
  sub text not null unique,
  name text not null,
  given_name text not null,
  family_name text not null,
  email text not null,
  institution_roles text[] not null default '{}',
  position integer not null default 0
);

create table if not exists devlms.memberships (
  context_id text not null references devlms.courses on delete cascade,
  login text not null references devlms.users on delete cascade,
  roles text[] not null,
  status text not null default 'Active' check (status in ('Active', 'Inactive')),
  primary key (context_id, login)
);

create table if not exists devlms.resource_links (
  id text primary key,
  context_id text not null references devlms.courses on delete cascade,
  client_id text not null references devlms.registrations on delete cascade,
  placement text not null check (placement in ('assignment', 'course_navigation')),
  position integer not null,
  title text not null,
  description text,
  target_link_uri text,
  custom jsonb not null default '{}',
  created_at timestamptz not null default now()
);

create table if not exists devlms.line_items (
  id integer generated always as identity primary key,
  context_id text not null references devlms.courses on delete cascade,
  client_id text not null references devlms.registrations on delete cascade,
  label text not null,
  score_maximum double precision not null check (score_maximum > 0),
  resource_link_id text references devlms.resource_links on delete set null,
  resource_id text,
  tag text,
  start_date_time timestamptz,
  end_date_time timestamptz,
  created_at timestamptz not null default now()
);
create index if not exists line_items_context_idx on devlms.line_items (context_id, client_id, id);

create table if not exists devlms.scores (
  id integer generated always as identity primary key,
  line_item_id integer not null references devlms.line_items on delete cascade,
  client_id text not null,
  user_sub text not null,
  score_given double precision,
  score_maximum double precision,
  comment text,
  activity_progress text not null,
  grading_progress text not null,
  timestamp timestamptz not null,
  received_at timestamptz not null default now()
);
create index if not exists scores_latest_idx on devlms.scores (line_item_id, user_sub, timestamp desc, id desc);

create table if not exists devlms.access_tokens (
  token_hash text primary key,
  client_id text not null,
  scopes text[] not null,
  expires_at timestamptz not null
);

create table if not exists devlms.used_jtis (
  client_id text not null,
  jti text not null,
  expires_at timestamptz not null,
  primary key (client_id, jti)
);

create table if not exists devlms.registration_tokens (
  token_hash text primary key,
  expires_at timestamptz not null,
  used_at timestamptz,
  created_at timestamptz not null default now()
);
`;

/** Creates the schema and tables when missing. Call inside the start-up lock (see createDevLms). */
export async function ensureSchema(q: Queryable): Promise<void> {
  await q.query(DDL);
}
