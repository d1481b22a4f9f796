import pg from 'pg';
import { drizzle, type NodePgDatabase, type NodePgQueryResultHKT } from 'drizzle-orm/node-postgres';
import type { PgDatabase } from 'drizzle-orm/pg-core';
import { migrate } from 'drizzle-orm/node-postgres/migrator';
import * as schema from '../models/schema.js';
import { MIGRATIONS_DIR } from '../paths.js';

export type Schema = typeof schema;

/**
 * What every data function takes first: the database or a transaction. Transactions start at the edge
 * (route, job) and flow down, so a service never decides on its own to commit half of a change.
 */
export type Db = PgDatabase<NodePgQueryResultHKT, Schema>;
export type RootDb = NodePgDatabase<Schema> & { $client: pg.Pool };

// bigint (int8) columns hold ids and micro-dollars: read them as numbers, not strings.
pg.types.setTypeParser(pg.types.builtins.INT8, (v) => Number(v));
// numeric columns hold scores; drizzle's number mode converts them, but raw queries should too.
pg.types.setTypeParser(pg.types.builtins.NUMERIC, (v) => Number(v));

export function createPool(url: string, max = 10): pg.Pool {
  const pool = new pg.Pool({ connectionString: url, max, idleTimeoutMillis: 30_000, connectionTimeoutMillis: 10_000 });
  // An idle client that loses its connection emits 'error' on the pool; without a listener that kills the process.
  pool.on('error', () => {});
  return pool;
}

export function createDb(pool: pg.Pool): RootDb {
  return drizzle({ client: pool, schema }) as RootDb;
}

/** Applies every versioned migration not yet applied (idempotent, safe for several processes at once). */
export async function migrateDatabase(db: RootDb): Promise<void> {
  const client = await db.$client.connect();
  try {
    // Two processes starting together (web and worker) must not both run the migrations.
    await client.query('select pg_advisory_lock(727201)');
    await migrate(drizzle({ client, schema }), { migrationsFolder: MIGRATIONS_DIR });
  } finally {
    await client.query('select pg_advisory_unlock(727201)').catch(() => {});
    client.release();
  }
}

/** Creates the database if it does not exist yet. */
export async function ensureDatabase(serverUrl: string, name: string, template?: string): Promise<void> {
  const client = new pg.Client({ connectionString: `${serverUrl}/postgres` });
  await client.connect();
  try {
    const found = await client.query('select 1 from pg_database where datname = $1', [name]);
    if (found.rowCount === 0) {
      const ident = client.escapeIdentifier(name);
      await client.query(template ? `create database ${ident} template ${client.escapeIdentifier(template)}` : `create database ${ident}`);
    }
  } finally {
    await client.end();
  }
}
