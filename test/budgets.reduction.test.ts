import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { sql } from 'drizzle-orm';
import type { Config } from '../src/config.js';
import { HttpError } from '../src/errors.js';
import { createBatches } from '../src/models/batches/batches.service.js';
import { createTestDatabase, type TestDatabase } from './helpers/db.js';
import { bulkSubmit, seedTenant, type Tenant } from './helpers/batch-fixtures.js';
import { testConfig } from './helpers/batch-driver.js';

/**
 * Issue 16, item 3: a selection that does not fit the remaining budget becomes the largest batch that fits —
 * highest priority, then oldest first — and the rest stays queued, said with the amounts, instead of a refusal.
 * Every item here is estimated at exactly $0.001 (1,000 micro-dollars), so the figures are computed by hand.
 */

let db: TestDatabase;
let config: Config;
const ITEM = 1_000;

beforeAll(async () => {
  db = await createTestDatabase();
  config = testConfig(db, 'http://127.0.0.1:9/v1');
});
afterAll(async () => {
  await db.drop();
});

/** n queued items of a new tenant, each $0.001, created a minute apart in id order (oldest first). */
async function tenantWithItems(n: number): Promise<{ t: Tenant; items: number[] }> {
  const t = await seedTenant(db.db);
  const items = await bulkSubmit(db.db, config, t, n);
  await db.db.execute(sql`
    update queue_items set est_cost_micros = ${ITEM}, created_at = now() - make_interval(mins => ${n} - (array_position(${sql.param(items)}::bigint[], id))::int)
    where id = any(${sql.param(items)}::bigint[])`);
  return { t, items };
}

const budget = (t: Tenant, courseId: number | null, limitMicros: number, frozen = false) =>
  db.db.execute(sql`insert into budgets (platform_id, course_id, month, limit_micros, frozen) values (${t.platformId}, ${courseId}, date_trunc('month', now())::date, ${limitMicros}, ${frozen})`);
const statusOf = async (ids: number[]) =>
  Object.fromEntries((await db.db.execute<{ id: number; status: string }>(sql`select id, status from queue_items where id = any(${sql.param(ids)}::bigint[])`)).rows.map((r) => [Number(r.id), r.status]));
const batchItems = async (batchId: number) =>
  (await db.db.execute<{ id: number }>(sql`select queue_item_id as id from batch_requests where batch_id = ${batchId} order by queue_item_id`)).rows.map((r) => Number(r.id));
const create = (t: Tenant, ids: number[], limits: Partial<Config['batches']> = {}) =>
  db.db.transaction((tx) => createBatches(tx, { ...config.batches, minSize: 1, ...limits }, t.admin, { scope: 'selected', ids }, {}));
const refusal = async (p: Promise<unknown>): Promise<HttpError> => {
  const err = await p.then(() => null, (e: unknown) => e);
  expect(err).toBeInstanceOf(HttpError);
  expect((err as HttpError).status).toBe(409);
  return err as HttpError;
};

describe('a selection larger than the budget', () => {
  it('becomes the largest batch that fits, highest priority then oldest, the rest queued and reported with the amounts', async () => {
    const { t, items } = await tenantWithItems(6);
    // The newest item is urgent: it goes first, then the oldest ones.
    await db.db.execute(sql`update queue_items set priority = 'high', priority_rank = 0 where id = ${items[5]!}`);
    await budget(t, t.courseId, 3_500);

    const { batches, leftQueued } = await create(t, items);
    expect(batches).toHaveLength(1);
    expect(await batchItems(batches[0]!.id)).toEqual([items[0]!, items[1]!, items[5]!].sort((a, b) => a - b));
    expect(batches[0]!.estCostMicros).toBe(3 * ITEM);
    expect(leftQueued).toEqual({ items: 3, estCostMicros: 3 * ITEM, budgetScope: await scope(t), budgetLeftMicros: 3_500 });
    expect(await statusOf(items.slice(2, 5))).toEqual(Object.fromEntries(items.slice(2, 5).map((id) => [id, 'queued'])));

    // The creation is audited with what was left queued (the batches page reads it back).
    const audit = await db.db.execute<{ details: { leftQueued?: unknown } }>(sql`select details from audit_log where action = 'batch.created' and entity_id = ${String(batches[0]!.id)}`);
    expect(audit.rows[0]!.details.leftQueued).toEqual(leftQueued);
  });

  it('takes nothing newer from a course whose budget is spent, while other courses go on up to the platform budget', async () => {
    const { t, items } = await tenantWithItems(6);
    // A second course of the same platform holds items 2..5 (oldest first: A0, A1, B2, B3, B4, B5).
    const other = Number((await db.db.execute<{ id: number }>(sql`insert into courses (platform_id, deployment_id, context_id, title) values (${t.platformId}, 'dep', ${`ctx-b-${t.platformId}`}, 'Course B') returning id`)).rows[0]!.id);
    await db.db.execute(sql`insert into course_privacy (course_id, llm_allowed) values (${other}, true)`);
    await db.db.execute(sql`update queue_items set course_id = ${other} where id = any(${sql.param(items.slice(2))}::bigint[])`);
    await budget(t, t.courseId, 1_000); // course A: one item
    await budget(t, null, 4_000); // the platform: four items

    const { batches, leftQueued } = await create(t, items);
    expect(await batchItems(batches[0]!.id)).toEqual([items[0]!, items[2]!, items[3]!, items[4]!]);
    expect(leftQueued).toEqual({ items: 2, estCostMicros: 2 * ITEM, budgetScope: 'the platform', budgetLeftMicros: 4_000 });
    expect(await statusOf([items[1]!, items[5]!])).toEqual({ [items[1]!]: 'queued', [items[5]!]: 'queued' });
  });

  it('leaves a model whose share falls under a batch minimum queued, and refuses when nothing fits, changing nothing', async () => {
    const { t, items } = await tenantWithItems(4);
    await budget(t, t.courseId, 1_500);
    const err = await refusal(create(t, items, { minSize: 2 }));
    expect(err.message).toBe(
      `Nothing in this selection fits the monthly budget of ${await scope(t)}: $0.0015 is left, the first item (highest priority, oldest) is estimated at $0.0010, and a batch needs at least 2 requests. Raise the budget, or wait for next month.`,
    );
    await db.db.execute(sql`update budgets set limit_micros = 500 where course_id = ${t.courseId}`);
    const none = await refusal(create(t, items));
    expect(none.message).toBe(`Nothing in this selection fits the monthly budget of ${await scope(t)}: $0.0005 is left, the first item (highest priority, oldest) is estimated at $0.0010. Raise the budget, or wait for next month.`);
    expect(Object.values(await statusOf(items))).toEqual(['queued', 'queued', 'queued', 'queued']);
    expect(Number((await db.db.execute<{ n: number }>(sql`select count(*)::int as n from batches where platform_id = ${t.platformId}`)).rows[0]!.n)).toBe(0);
    expect(Number((await db.db.execute<{ n: number }>(sql`select count(*)::int as n from cost_ledger where platform_id = ${t.platformId}`)).rows[0]!.n)).toBe(0);
  });

  it('is not a way around a freeze: a frozen budget refuses the whole selection', async () => {
    const { t, items } = await tenantWithItems(2);
    await budget(t, t.courseId, 1_000_000, true);
    expect((await refusal(create(t, items))).message).toMatch(/^The budget of course ".*" for this month is frozen/);
    expect(Object.values(await statusOf(items))).toEqual(['queued', 'queued']);
  });

  it('sends the whole selection, with nothing reported, when it fits', async () => {
    const { t, items } = await tenantWithItems(3);
    await budget(t, t.courseId, 3 * ITEM);
    const { batches, leftQueued } = await create(t, items);
    expect(leftQueued).toBeNull();
    expect(await batchItems(batches[0]!.id)).toEqual(items);
  });
});

async function courseTitle(t: Tenant): Promise<string> {
  return (await db.db.execute<{ title: string }>(sql`select title from courses where id = ${t.courseId}`)).rows[0]!.title;
}
async function scope(t: Tenant): Promise<string> {
  return `course "${await courseTitle(t)}"`;
}
