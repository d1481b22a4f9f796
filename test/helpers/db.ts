import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { createDb, createPool, type RootDb } from '../../src/db/db.js';

export const TEMPLATE_DB = 'llm_assess_template';

export interface TestDatabase {
  url: string;
  name: string;
  pool: pg.Pool;
  db: RootDb;
  drop(): Promise<void>;
}

function serverUrl(): string {
  const url = process.env.TEST_DATABASE_SERVER_URL;
  if (!url) throw new Error('TEST_DATABASE_SERVER_URL is not set: run the tests through jest (global setup starts the server)');
  return url;
}

/** A fresh database for one test file, cloned from the migrated template (fast: a file copy, no migrations). */
export async function createTestDatabase(): Promise<TestDatabase> {
  const name = `t_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: `${serverUrl()}/postgres` });
  await admin.connect();
  try {
    await admin.query(`create database ${name} template ${TEMPLATE_DB}`);
  } finally {
    await admin.end();
  }
  const url = `${serverUrl()}/${name}`;
  const pool = createPool(url, 5);
  return {
    url,
    name,
    pool,
    db: createDb(pool),
    async drop() {
      await pool.end();
      const c = new pg.Client({ connectionString: `${serverUrl()}/postgres` });
      await c.connect();
      try {
        await c.query(`drop database if exists ${name} with (force)`);
      } finally {
        await c.end();
      }
    },
  };
}

/** An empty database (no migrations), for testing the migrations themselves. */
export async function createEmptyDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `e_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: `${serverUrl()}/postgres` });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  return {
    url: `${serverUrl()}/${name}`,
    async drop() {
      const c = new pg.Client({ connectionString: `${serverUrl()}/postgres` });
      await c.connect();
      await c.query(`drop database if exists ${name} with (force)`);
      await c.end();
    },
  };
}
