import type pg from 'pg';

/**
 * A fingerprint of everything the tool (and the development LMS beside it) keeps in the database: per table, the
 * number of rows and an md5 over the rows (as jsonb, ordered by the primary key, else by the row's text). Two equal
 * snapshots mean no request in between inserted, updated or deleted anything that matters.
 *
 * Tables are found in the catalog (every base table of the `public` and `devlms` schemas), so a table added later
 * is covered without editing this file. What is left out, and why:
 *
 * - what a *launch* writes, because the suite's setup launches and a probe never does, but a session request that
 *   re-validates its launch could refresh them: `users.last_launch_at` / `updated_at`, `memberships.updated_at`,
 *   `courses.updated_at`, audit rows of action `lti.launch`; ltijs' session store (`idtokens`, `contexttokens`:
 *   written at each launch and keyed by it), its login `nonces` and `states`, and our replay guard `lti_nonces`;
 * - caches of service tokens, which a read-only page may fill when it calls the LMS (NRPS, AGS): ltijs'
 *   `accesstokens`, the dev LMS's `access_tokens` and `used_jtis` (client assertions it has seen);
 * - the job runner's own log (`agenda_logs`): the suite's stacks run the web role only, so no job runs, but
 *   `agenda_jobs` stays in: a refused request must not enqueue anything either;
 * - the migration bookkeeping tables (`drizzle.__drizzle_migrations`, `SequelizeMeta`), which no request touches.
 *
 * Nothing else is excluded: a read-only request (any GET, and a refused request of any method) must leave every
 * other row as it was, `updated_at` columns included.
 */

const SCHEMAS = ['public', 'devlms'];

const SKIPPED_TABLES = new Set([
  'public.idtokens',
  'public.contexttokens',
  'public.nonces',
  'public.states',
  'public.accesstokens',
  'public.lti_nonces',
  'public.agenda_logs',
  'public.SequelizeMeta',
  'devlms.access_tokens',
  'devlms.used_jtis',
]);

const SKIPPED_COLUMNS: Record<string, string[]> = {
  'public.users': ['last_launch_at', 'updated_at'],
  'public.memberships': ['updated_at'],
  'public.courses': ['updated_at'],
};

const ROW_FILTER: Record<string, string> = {
  'public.audit_log': `action <> 'lti.launch'`,
};

export interface TableFingerprint {
  rows: number;
  md5: string;
}

export type Snapshot = Record<string, TableFingerprint>;

const ident = (s: string) => `"${s.replace(/"/g, '""')}"`;
const literal = (s: string) => `'${s.replace(/'/g, "''")}'`;

/** One statement that fingerprints every covered table (built once per pool from the catalog). */
const plans = new WeakMap<pg.Pool, Promise<string>>();

async function planFor(pool: pg.Pool): Promise<string> {
  const tables = await pool.query<{ schema: string; table: string; pk: string[] | null }>(
    `select n.nspname as schema, c.relname as table,
            (select array_agg(a.attname::text order by k.ord)
               from pg_index i cross join lateral unnest(i.indkey) with ordinality as k(attnum, ord)
               join pg_attribute a on a.attrelid = i.indrelid and a.attnum = k.attnum
              where i.indrelid = c.oid and i.indisprimary) as pk
       from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where c.relkind in ('r', 'p') and n.nspname = any($1)
      order by 1, 2`,
    [SCHEMAS],
  );
  return tables.rows
    .map((t) => ({ ...t, name: `${t.schema}.${t.table}` }))
    .filter((t) => !SKIPPED_TABLES.has(t.name))
    .map((t) => {
      const minus = (SKIPPED_COLUMNS[t.name] ?? []).map((c) => ` - ${literal(c)}`).join('');
      const order = t.pk?.length ? t.pk.map((c) => `t.${ident(c)}`).join(', ') : 't::text';
      const where = ROW_FILTER[t.name] ? ` where ${ROW_FILTER[t.name]}` : '';
      return `select ${literal(t.name)} as name, count(*)::int as rows,
                     md5(coalesce(string_agg((to_jsonb(t)${minus})::text, E'\\n' order by ${order}), '')) as md5
                from ${ident(t.schema)}.${ident(t.table)} t${where}`;
    })
    .join('\nunion all\n');
}

/** The fingerprint of every covered table (see the file's comment for what is left out), in one statement. */
export async function snapshot(pool: pg.Pool): Promise<Snapshot> {
  let plan = plans.get(pool);
  if (!plan) {
    plan = planFor(pool);
    plans.set(pool, plan);
  }
  const r = await pool.query<{ name: string } & TableFingerprint>(await plan);
  return Object.fromEntries(r.rows.map((row) => [row.name, { rows: row.rows, md5: row.md5 }]));
}

/** The tables whose rows differ, as `table: rows before → after` (an empty list when nothing changed). */
export function changedTables(before: Snapshot, after: Snapshot): string[] {
  const names = new Set([...Object.keys(before), ...Object.keys(after)]);
  const out: string[] = [];
  for (const name of [...names].sort()) {
    const a = before[name];
    const b = after[name];
    if (!a || !b || a.rows !== b.rows || a.md5 !== b.md5) out.push(`${name}: ${a?.rows ?? '—'} → ${b?.rows ?? '—'} rows${a && b && a.rows === b.rows ? ' (contents changed)' : ''}`);
  }
  return out;
}

/** Runs `fn` and returns what it changed in the database (an empty list: nothing). */
export async function changesDuring(pool: pg.Pool, fn: () => Promise<unknown>): Promise<string[]> {
  const before = await snapshot(pool);
  await fn();
  return changedTables(before, await snapshot(pool));
}

/** The covered tables (see above) holding `needle` anywhere in a row, as `table: n rows`. */
export async function tablesContaining(pool: pg.Pool, needle: string): Promise<string[]> {
  const tables = await pool.query<{ schema: string; table: string }>(
    `select n.nspname as schema, c.relname as table from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where c.relkind in ('r', 'p') and n.nspname = any($1) order by 1, 2`,
    [SCHEMAS],
  );
  // One statement for every table: a probe asks this after each request it expects the route to have taken.
  const counts = tables.rows.map(
    (t) => `select ${literal(`${t.schema}.${t.table}`)} as name, count(*)::int as n from ${ident(t.schema)}.${ident(t.table)} t where strpos(t::text, $1) > 0`,
  );
  const r = await pool.query<{ name: string; n: number }>(counts.join('\nunion all\n'), [needle]);
  return r.rows.filter((row) => row.n > 0).map((row) => `${row.name}: ${row.n} rows`);
}
