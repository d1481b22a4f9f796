import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readdirSync } from 'node:fs';
import { createDb, createPool, migrateDatabase } from '../src/db/db.js';
import { MIGRATIONS_DIR } from '../src/paths.js';
import { createEmptyDatabase } from './helpers/db.js';

describe('migrations', () => {
  let empty: Awaited<ReturnType<typeof createEmptyDatabase>>;
  beforeAll(async () => {
    empty = await createEmptyDatabase();
  });
  afterAll(async () => {
    await empty.drop();
  });

  it('create the whole schema from an empty database, and running them again changes nothing', async () => {
    const pool = createPool(empty.url, 2);
    try {
      const db = createDb(pool);
      await migrateDatabase(db);
      await migrateDatabase(db);
      const tables = await pool.query<{ table_name: string }>(
        "select table_name from information_schema.tables where table_schema = 'public' order by 1",
      );
      expect(tables.rows.map((r) => r.table_name)).toEqual([
        'assessments', 'audit_log', 'batch_requests', 'batches', 'budgets', 'cost_ledger', 'course_privacy',
        'courses', 'lti_deployments', 'lti_nonces', 'lti_platforms', 'memberships', 'notifications',
        'prompt_templates', 'prompt_versions', 'prompts', 'queue_items', 'registration_invites', 'submissions',
        'tasks', 'users',
      ]);
      const applied = await pool.query('select count(*)::int as n from drizzle.__drizzle_migrations');
      const files = readdirSync(MIGRATIONS_DIR).filter((f) => f.endsWith('.sql'));
      expect(applied.rows[0].n).toBe(files.length);
    } finally {
      await pool.end();
    }
  });

  it('store money as integer micro-dollars', async () => {
    const pool = createPool(empty.url, 1);
    try {
      const money = await pool.query<{ table_name: string; column_name: string; data_type: string }>(
        "select table_name, column_name, data_type from information_schema.columns where column_name like '%micros' order by 1, 2",
      );
      expect(money.rows.length).toBeGreaterThanOrEqual(6);
      for (const row of money.rows) expect(row.data_type).toBe('bigint');
    } finally {
      await pool.end();
    }
  });
});
