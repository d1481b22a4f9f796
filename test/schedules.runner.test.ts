import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { sql } from 'drizzle-orm';
import { startStack, type Stack } from './helpers/stack.js';
import { bulkSubmit, seedTenant } from './helpers/batch-fixtures.js';
import { FAST_BATCH_ENV } from './helpers/batch-driver.js';
import { until } from './helpers/until.js';
import { createSchedule } from '../src/models/schedules/schedules.service.js';
import { scheduleFormSchema } from '../src/models/schedules/schedules.schema.js';

/**
 * A schedule firing through the real job runner (Agenda on PostgreSQL, the worker role) and the OpenAI emulator:
 * nothing is called by hand. The runner looks every second here (BATCH_SCHEDULE_TICK_MS); slots are set due by
 * moving next_run_at back, as the clock would.
 */
let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ role: 'all', emulator: true, env: { ...FAST_BATCH_ENV, BATCH_SCHEDULE_TICK_MS: '1000' } });
}, 60_000);
afterAll(async () => {
  await stack?.close();
});

describe('a schedule run by the worker', () => {
  it('fires at each slot, sends its batch and the results come in; each slot makes one batch', async () => {
    const db = stack.db.db;
    const t = await seedTenant(db);
    const id = await db.transaction((tx) =>
      createSchedule(tx, t.admin, scheduleFormSchema.parse({ name: 'Every minute', trigger: 'interval', intervalMinutes: '1', minItems: '1', maxItems: '100', sending: 'send' }), new Date()),
    );
    const ingested = async (n: number) =>
      until(`${n} scheduled batch(es) to be ingested`, async () => {
        const rows = (await db.execute<{ id: number; ingested_at: Date | null }>(sql`select id, ingested_at from batches where platform_id = ${t.platformId} order by id`)).rows;
        return rows.length === n && rows.every((r) => r.ingested_at) ? rows : undefined;
      }, 30_000, 100);

    await bulkSubmit(db, stack.config, t, 3);
    await db.execute(sql`update batch_schedules set next_run_at = date_trunc('minute', now()) - interval '10 minutes' where id = ${id}`);
    await ingested(1);
    await bulkSubmit(db, stack.config, t, 2);
    await db.execute(sql`update batch_schedules set next_run_at = date_trunc('minute', now()) - interval '5 minutes' where id = ${id}`);
    const batches = await ingested(2);
    const runs = (await db.execute<{ outcome: string; items: number }>(sql`select outcome, items from batch_schedule_runs where schedule_id = ${id} order by id`)).rows;
    expect(runs).toEqual([
      { outcome: 'sent', items: 3 },
      { outcome: 'sent', items: 2 },
    ]);
    const graded = await db.execute<{ n: number }>(sql`select count(*)::int as n from queue_items where platform_id = ${t.platformId} and status = 'completed'`);
    expect(Number(graded.rows[0]!.n)).toBe(5);
    expect(batches).toHaveLength(2);
  }, 90_000);
});
