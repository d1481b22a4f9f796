import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { sql } from 'drizzle-orm';
import { startStack, type Stack } from './helpers/stack.js';
import type { ToolSession } from './helpers/lti-browser.js';
import { launchWith, OTHER_COURSE } from './helpers/launches.js';
import { homeIds } from './helpers/assessments.js';
import { textOf } from './helpers/html.js';
import { reserveForBatch } from '../src/models/budgets/budgets.service.js';
import { listBudgets } from '../src/models/budgets/budgets.repository.js';
import { HttpError } from '../src/errors.js';

/**
 * Issue 16, item 5: a budget may carry over what last month's budget of its scope left unused, and allocation moves
 * between course budgets of a month; every change is in the budgets' history. Figures computed by hand.
 */
describe('budget rollover and allocation', () => {
  let stack: Stack;
  let admin: ToolSession;
  let platformId: number;
  let courseA: number;
  let courseB: number;
  let month: string;
  const db = () => stack.db.db;
  let key = 0;
  const ledger = (courseId: number, kind: string, amount: number, ago = 0) =>
    db().execute(sql`
      insert into cost_ledger (platform_id, course_id, month, kind, amount_micros, idempotency_key)
      values (${platformId}, ${courseId}, (date_trunc('month', now()) - make_interval(months => ${ago}))::date, ${kind}, ${amount}, ${`rollover-test-${(key += 1)}`})`);
  const budgetRow = async (courseId: number) =>
    (await db().execute<{ id: number; limit_micros: number }>(sql`
      select id, limit_micros from budgets where course_id = ${courseId} and month = date_trunc('month', now())::date`)).rows[0];
  const reserve = (courseId: number, amountMicros: number) =>
    db().transaction((tx) => reserveForBatch(tx, platformId, 1, [{ customId: `rollover-${(key += 1)}`, queueItemId: 1, courseId, amountMicros }]));

  beforeAll(async () => {
    stack = await startStack();
    admin = await stack.browser().launch(stack.devlmsUrl, 'admin');
    await stack.browser().launch(stack.devlmsUrl, 'instructor', { task: '1' });
    await launchWith(stack, stack.browser(), 'instructor', { task: '1' }, OTHER_COURSE);
    const home = await homeIds(stack);
    platformId = home.platformId;
    courseA = home.courseId;
    courseB = Number((await db().execute<{ id: number }>(sql`select id from courses where context_id = 'course-202' and platform_id = ${platformId}`)).rows[0]!.id);
    month = (await db().execute<{ m: string }>(sql`select to_char(now(), 'YYYY-MM') as m`)).rows[0]!.m;
  }, 60_000);
  afterAll(async () => {
    await stack?.close();
  });

  it("carries over what last month's budget left unused when asked, and only then", async () => {
    // Last month: a $10 budget of course A, $4 charged: $6 unused.
    await db().execute(sql`insert into budgets (platform_id, course_id, month, limit_micros) values (${platformId}, ${courseA}, (date_trunc('month', now()) - interval '1 month')::date, 10000000)`);
    await ledger(courseA, 'charge', 4_000_000, 1);
    const set = await admin.post('/admin/costs/budgets', { scope: `course-${courseA}`, month, limit: '5', carryOver: 'on' }, { htmx: true });
    expect(set.status).toBe(200);
    expect(textOf(set.html)).toContain('$11.00 $5.00 + $6.00 carried over');
    const listed = (await listBudgets(db(), platformId, `${month}-01`)).find((b) => b.courseId === courseA)!;
    expect(listed).toMatchObject({ limitMicros: 11_000_000, ownLimitMicros: 5_000_000, carryOver: true });

    await reserve(courseA, 10_500_000);
    const over = await reserve(courseA, 600_000).then(() => null, (e: unknown) => e);
    expect(over).toBeInstanceOf(HttpError);
    expect((over as HttpError).message).toContain('the limit is $11.00');

    // Without the box ticked the budget enforces its own $5 again.
    expect((await admin.post('/admin/costs/budgets', { scope: `course-${courseA}`, month, limit: '5' }, { htmx: true })).status).toBe(200);
    expect((await listBudgets(db(), platformId, `${month}-01`)).find((b) => b.courseId === courseA)).toMatchObject({ limitMicros: 5_000_000, carryOver: false });
    // Back to the carry-over for what follows: committed $10.50 of $11.
    expect((await admin.post('/admin/costs/budgets', { scope: `course-${courseA}`, month, limit: '5', carryOver: 'on' }, { htmx: true })).status).toBe(200);
  });

  it('moves what a course has not committed to another course, refusing more, the platform budget, other months and unknown budgets', async () => {
    // Course A: own limit $5 (+$6 carried), $10.50 committed. Course B: $2, nothing committed.
    await admin.post('/admin/costs/budgets', { scope: `course-${courseB}`, month, limit: '2' }, { htmx: true });
    const a = (await budgetRow(courseA))!;
    const b = (await budgetRow(courseB))!;
    const move = (form: Record<string, string>) => admin.post('/admin/costs/budgets/move', form, { htmx: true });

    // A's own $5 is less than its $10.50 committed: nothing of it can move.
    const none = await move({ from: String(a.id), to: String(b.id), amount: '1' });
    expect(none.status).toBe(422);
    expect(textOf(none.html)).toContain('has $0.0000 not committed; at most that can move.');

    const moved = await move({ from: String(b.id), to: String(a.id), amount: '1.50' });
    expect(moved.status).toBe(200);
    expect(textOf(moved.html)).toMatch(/Moved \$1\.50 from ".*" \(now \$0\.50\) to ".*" \(now \$6\.50\)\./);
    expect(Number((await budgetRow(courseB))!.limit_micros)).toBe(500_000);
    expect(Number((await budgetRow(courseA))!.limit_micros)).toBe(6_500_000);
    const audit = await db().execute<{ entity_id: string; details: { amountMicros: number; limitMicros: number } }>(sql`
      select entity_id, details from audit_log where action = 'budget.allocation_moved' order by id`);
    expect(audit.rows.map((r) => [Number(r.entity_id), r.details.amountMicros, r.details.limitMicros])).toEqual([
      [Number(b.id), 1_500_000, 500_000],
      [Number(a.id), 1_500_000, 6_500_000],
    ]);
    const history = textOf(moved.html.slice(moved.html.indexOf('id="costs-history"')));
    expect(history).toContain('Allocation moved Course #' + Number(b.id));
    expect(history).toContain('$2.00 → $0.50');

    const tooMuch = await move({ from: String(b.id), to: String(a.id), amount: '0.60' });
    expect(tooMuch.status).toBe(422);
    expect(textOf(tooMuch.html)).toContain('has $0.5000 not committed');
    expect(tooMuch.html).toContain('value="0.60"');

    const platformBudget = Number((await db().execute<{ id: number }>(sql`
      insert into budgets (platform_id, course_id, month, limit_micros) values (${platformId}, null, date_trunc('month', now())::date, 50000000) returning id`)).rows[0]!.id);
    expect(textOf((await move({ from: String(platformBudget), to: String(a.id), amount: '1' })).html)).toContain('Allocation moves between course budgets');
    expect(textOf((await move({ from: String(a.id), to: String(a.id), amount: '1' })).html)).toContain('Choose another budget than the one you take from.');
    const nextMonth = Number((await db().execute<{ id: number }>(sql`
      insert into budgets (platform_id, course_id, month, limit_micros) values (${platformId}, ${courseB}, (date_trunc('month', now()) + interval '1 month')::date, 1000000) returning id`)).rows[0]!.id);
    expect(textOf((await move({ from: String(nextMonth), to: String(a.id), amount: '0.10' })).html)).toContain('Both budgets must be of the same month.');
    expect((await move({ from: String(b.id), to: '999999999', amount: '0.10' })).status).toBe(404);

    // Another platform's budget is not found, and nothing of either changed.
    const other = Number((await db().execute<{ id: number }>(sql`
      insert into lti_platforms (issuer, client_id, name, ltijs_platform_id) values ('https://other-lms.test', 'other', 'Other LMS', 'other') returning id`)).rows[0]!.id);
    const otherCourse = Number((await db().execute<{ id: number }>(sql`insert into courses (platform_id, deployment_id, context_id, title) values (${other}, 'd', 'c', 'Theirs') returning id`)).rows[0]!.id);
    const theirs = Number((await db().execute<{ id: number }>(sql`
      insert into budgets (platform_id, course_id, month, limit_micros) values (${other}, ${otherCourse}, date_trunc('month', now())::date, 9000000) returning id`)).rows[0]!.id);
    expect((await move({ from: String(theirs), to: String(a.id), amount: '1' })).status).toBe(404);
    expect((await move({ from: String(b.id), to: String(theirs), amount: '0.10' })).status).toBe(404);
    expect(Number((await db().execute<{ l: number }>(sql`select limit_micros as l from budgets where id = ${theirs}`)).rows[0]!.l)).toBe(9_000_000);
    expect(Number((await budgetRow(courseB))!.limit_micros)).toBe(500_000);
  });
});
