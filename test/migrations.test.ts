import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { createDb, createPool, migrateDatabase } from '../src/db/db.js';
import { MIGRATIONS_DIR } from '../src/paths.js';
import { createBatches } from '../src/models/batches/batches.service.js';
import { createEmptyDatabase, createTestDatabase } from './helpers/db.js';
import { bulkSubmit, seedTenant } from './helpers/batch-fixtures.js';
import { testConfig } from './helpers/batch-driver.js';

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
        'ab_paired_grades', 'appeals', 'assessments', 'audit_log', 'batch_requests', 'batch_schedule_runs', 'batch_schedules', 'batches', 'budgets', 'consent_records', 'cost_ledger', 'cost_settings', 'course_privacy', 'courses',
        'daily_metrics', 'email_outbox', 'feedback_ratings', 'lti_deployments', 'lti_nonces', 'lti_platforms', 'memberships', 'notification_preferences',
        'notification_templates', 'notifications', 'person_requests', 'platform_privacy',
        'prompt_ab_tests', 'prompt_templates', 'prompt_versions', 'prompts', 'provider_failover_settings', 'provider_health_marks', 'queue_items', 'realtime_requests', 'registration_invites', 'submissions',
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

  it('0005 gives the requests of batches made before it their items\' task and prompt version', async () => {
    const test = await createTestDatabase();
    try {
      const config = testConfig(test, 'http://127.0.0.1:9/v1');
      const t = await seedTenant(test.db);
      const items = await bulkSubmit(test.db, config, t, 3);
      await test.db.transaction((tx) => createBatches(tx, config.batches, t.admin, { scope: 'selected', ids: items }, {}));
      // The requests as 0004 left them (no such columns), then 0005 as it is shipped.
      await test.db.execute(sql`alter table batch_requests drop column task_id, drop column prompt_version_id`);
      const file = readdirSync(MIGRATIONS_DIR).find((f) => f.startsWith('0005_'))!;
      for (const statement of readFileSync(join(MIGRATIONS_DIR, file), 'utf8').split('--> statement-breakpoint')) await test.db.execute(sql.raw(statement));
      const rows = await test.db.execute<{ same: boolean; task_id: number }>(sql`
        select r.task_id = q.task_id and r.prompt_version_id = q.prompt_version_id as same, r.task_id
        from batch_requests r join queue_items q on q.id = r.queue_item_id where q.id = any(${sql.param(items)}::bigint[])`);
      expect(rows.rows).toHaveLength(3);
      expect(rows.rows.every((r) => r.same && Number(r.task_id) === t.taskId)).toBe(true);
      await expect(test.db.execute(sql`update batch_requests set task_id = null where queue_item_id = ${items[0]!}`)).rejects.toHaveProperty('cause.code', '23502');
    } finally {
      await test.drop();
    }
  });
});
