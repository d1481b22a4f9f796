import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { sql } from 'drizzle-orm';
import { startStack, type Stack } from './helpers/stack.js';
import type { ToolSession } from './helpers/lti-browser.js';
import { launchTwoPlatforms } from './helpers/launches.js';
import { createAssessment, homeIds, SUBS } from './helpers/assessments.js';
import { reserveForBatch } from '../src/models/budgets/budgets.service.js';
import { spendReport } from '../src/models/budgets/spend.service.js';
import { HttpError } from '../src/errors.js';

/**
 * The administrator's Costs page against a ledger seeded by hand (figures below are computed by hand), budgets
 * set through the page and enforced by the engine's reserveForBatch, and the tenant walls around both.
 */
describe('costs and budgets', () => {
  let stack: Stack;
  let admin: ToolSession;
  let instructor: ToolSession;
  let student: ToolSession;
  let foreignAdmin: ToolSession;
  let platformId: number;
  let courseA: number;
  let courseB: number;
  let foreignCourse: number;
  let queueItemId: number;
  let batchId: number;
  let courseATitle: string;
  let taskId: number;
  let month: string; // 'YYYY-MM' of the database's current month

  const db = () => stack.db.db;
  const count = async (query: ReturnType<typeof sql>) => Number((await db().execute<{ n: number }>(query)).rows[0]!.n);

  /** One ledger movement; `ago` months before the current month. */
  const ledger = (platform: number, course: number, kind: string, amount: number, key: string, ago = 0, links: { assessmentId?: number; queueItemId?: number; settled?: number } = {}) => sql`
    insert into cost_ledger (platform_id, course_id, month, kind, amount_micros, settled_micros, assessment_id, queue_item_id, idempotency_key)
    values (${platform}, ${course}, (date_trunc('month', now()) - make_interval(months => ${ago}))::date, ${kind}, ${amount}, ${links.settled ?? 0}, ${links.assessmentId ?? null}, ${links.queueItemId ?? null}, ${key})`;

  /** A reservation through the engine's enforcement (a new request each call). */
  let requestNo = 0;
  const reserve = (courseId: number, amountMicros: number) =>
    reserveForBatch(db(), platformId, batchId, [{ customId: `costs-test-${(requestNo += 1)}`, queueItemId, courseId, amountMicros }]);
  const refusal = async (p: Promise<unknown>): Promise<HttpError> => {
    const err = await p.then(() => null, (e: unknown) => e);
    expect(err).toBeInstanceOf(HttpError);
    expect((err as HttpError).status).toBe(409);
    return err as HttpError;
  };

  beforeAll(async () => {
    stack = await startStack();
    const people = await launchTwoPlatforms(stack);
    ({ admin, instructor, student, foreignAdmin } = people);
    const { clientId } = people;

    const home = await homeIds(stack);
    platformId = home.platformId;
    taskId = home.taskId;
    courseA = home.courseId;
    courseATitle = (await db().execute<{ title: string }>(sql`select title from courses where id = ${courseA}`)).rows[0]!.title;
    courseB = Number((await db().execute<{ id: number }>(sql`select id from courses where context_id = 'course-202' and platform_id = ${platformId}`)).rows[0]!.id);
    const foreignPlatform = Number((await db().execute<{ id: number }>(sql`select id from lti_platforms where client_id = ${clientId}`)).rows[0]!.id);
    foreignCourse = Number((await db().execute<{ id: number }>(sql`
      insert into courses (platform_id, deployment_id, context_id, title) values (${foreignPlatform}, 'd1', 'foreign-1', 'Foreign course') returning id`)).rows[0]!.id);
    month = (await db().execute<{ m: string }>(sql`select to_char(now(), 'YYYY-MM') as m`)).rows[0]!.m;

    // Two results with stored usage (431 input, 287 output tokens of gpt-4o-mini): 118 µ$ at the batch price,
    // 237 µ$ at the standard price (431 × 0.15 + 287 × 0.60 = 236.85, rounded half up).
    const a1 = await createAssessment(stack, { taskId: home.taskId, studentSub: SUBS.student1 });
    const a2 = await createAssessment(stack, { taskId: home.taskId, studentSub: SUBS.student1 });
    queueItemId = a1.queueItemId;
    batchId = Number((await db().execute<{ id: number }>(sql`insert into batches (platform_id, provider, model) values (${platformId}, 'openai', 'gpt-4o-mini') returning id`)).rows[0]!.id);

    for (const q of [
      // Course A, this month: reserved 3,800,400; released 2,500,400; charged 1,200,236.
      ledger(platformId, courseA, 'reservation', 1_000_000, 'reserve:a1'),
      ledger(platformId, courseA, 'reservation', 500_000, 'reserve:a2'),
      ledger(platformId, courseA, 'release', 500_000, 'release:a2'),
      ledger(platformId, courseA, 'reservation', 2_000_000, 'reserve:a3'),
      ledger(platformId, courseA, 'release', 2_000_000, 'release:a3'),
      ledger(platformId, courseA, 'charge', 1_200_000, 'charge:a3'),
      ledger(platformId, courseA, 'reservation', 300_000, 'reserve:a4'),
      // (a3 above is a charge with a separate release; a5 and a6 as ingestion writes them: a charge that settles its
      // reservation in the same row. Both forms add up the same.)
      ledger(platformId, courseA, 'reservation', 200, 'reserve:a5', 0, { queueItemId: a1.queueItemId }),
      ledger(platformId, courseA, 'charge', 118, 'charge:a5', 0, { assessmentId: a1.id, queueItemId: a1.queueItemId, settled: 200 }),
      ledger(platformId, courseA, 'reservation', 200, 'reserve:a6', 0, { queueItemId: a2.queueItemId }),
      ledger(platformId, courseA, 'charge', 118, 'charge:a6', 0, { assessmentId: a2.id, queueItemId: a2.queueItemId, settled: 200 }),
      // Course B, this month: committed 600,000, all charged.
      ledger(platformId, courseB, 'reservation', 750_000, 'reserve:b1'),
      ledger(platformId, courseB, 'release', 750_000, 'release:b1'),
      ledger(platformId, courseB, 'charge', 600_000, 'charge:b1'),
      // Course B, last month: 3,500,000 charged.
      ledger(platformId, courseB, 'reservation', 4_000_000, 'reserve:b2', 1),
      ledger(platformId, courseB, 'release', 4_000_000, 'release:b2', 1),
      ledger(platformId, courseB, 'charge', 3_500_000, 'charge:b2', 1),
      // Course A, 13 months ago: outside the 12-month report, still reachable by choosing the month.
      ledger(platformId, courseA, 'charge', 9_000_000, 'charge:old', 13),
      // Another platform: never part of these figures.
      ledger(foreignPlatform, foreignCourse, 'reservation', 7_777_777, 'reserve:foreign'),
    ]) {
      await db().execute(q);
    }
  }, 120_000);
  afterAll(async () => {
    await stack?.close();
  });

  it('refuse, in the database, a ledger row naming another platform\'s course or settling anything but a charge', async () => {
    const refused = (q: ReturnType<typeof sql>) => db().execute(q).then(() => null, (e: unknown) => String((e as { cause?: unknown }).cause ?? e));
    const before = await count(sql`select count(*)::int as n from cost_ledger`);
    expect(await refused(ledger(platformId, foreignCourse, 'reservation', 1, 'reserve:cross-tenant'))).toMatch(/cost_ledger_course_fk/);
    expect(await refused(ledger(platformId, courseA, 'reservation', 1, 'reserve:settling', 0, { settled: 1 }))).toMatch(/cost_ledger_settled_check/);
    expect(await count(sql`select count(*)::int as n from cost_ledger`)).toBe(before);
  });

  it('add up spend per month and per course exactly as computed by hand', async () => {
    const r = await spendReport(db(), platformId);
    expect(r.selected).toEqual({
      committedMicros: 3_100_236,
      chargedMicros: 1_800_236,
      inFlightMicros: 1_300_000,
      realtimeMicros: 0,
      savings: { pricedCharges: 2, chargedMicros: 236, standardMicros: 474, uncachedMicros: 474, savedMicros: 238, unpricedCharges: 2 },
    });
    expect(r.courses.map((c) => [c.courseId, c.committedMicros, c.chargedMicros, c.inFlightMicros, c.savings?.savedMicros ?? null])).toEqual([
      [courseA, 2_500_236, 1_200_236, 1_300_000, 238],
      [courseB, 600_000, 600_000, 0, null],
    ]);
    // By task: the two results linked to their queue items (431 + 431 input, 287 + 287 output tokens); the rest
    // of the seeded movements name no queue item.
    expect(r.tasks).toEqual([
      { taskId: null, taskTitle: null, courseTitle: null, committedMicros: 3_100_000, chargedMicros: 1_800_000, realtimeMicros: 0, results: 0, inputTokens: 0, outputTokens: 0 },
      { taskId, taskTitle: expect.stringContaining('French Revolution'), courseTitle: courseATitle, committedMicros: 236, chargedMicros: 236, realtimeMicros: 0, results: 2, inputTokens: 862, outputTokens: 574 },
    ]);
    expect(r.months).toHaveLength(12);
    expect(r.months.at(-1)!.committedMicros).toBe(3_100_236);
    expect(r.months.at(-2)!.committedMicros).toBe(3_500_000);
    expect(r.months.slice(0, -2).every((m) => m.committedMicros === 0 && m.chargedMicros === 0)).toBe(true);
    expect(r.period).toMatchObject({ committedMicros: 6_600_236, chargedMicros: 5_300_236 });
  });

  it('show the figures, an accessible chart and its table on the page', async () => {
    const page = await admin.get('/admin/costs');
    expect(page.status).toBe(200);
    const byCourse = page.html.slice(page.html.indexOf('id="costs-by-course"'), page.html.indexOf('</table>', page.html.indexOf('id="costs-by-course"')));
    expect(byCourse).toContain(`<th scope="row">${courseATitle}</th><td>$2.50</td><td>$1.20</td><td>$0</td><td>$1.30</td><td>$0.00024</td>`);
    expect(byCourse).toContain('<th scope="row">Philosophy 202</th><td>$0.60</td><td>$0.60</td><td>$0</td><td>$0</td><td>—</td>');
    expect(page.html).toMatch(/French Revolution[^<]*<\/th>/);
    expect(page.html).toContain(`</th><td>${courseATitle}</td><td>$0.00024</td><td>$0.00024</td><td>$0</td><td>2</td><td>862</td><td>574</td>`);
    expect(page.html).toContain('<th scope="row">No task recorded</th><td>—</td><td>$3.10</td><td>$1.80</td><td>$0</td><td>0</td>');
    expect(page.html).toContain('<dd>$3.10</dd>');
    expect(page.html).toContain('<dd>$1.80</dd>');
    // The charts are images with a text alternative, and the same numbers as a table.
    expect(page.html).toMatch(/<svg role="img" aria-labelledby="costs-chart-courses-title costs-chart-courses-desc"/);
    expect(page.html).toContain('Philosophy 202: $0.60');
    expect(page.html).toMatch(/<svg role="img" aria-labelledby="costs-chart-months-title costs-chart-months-desc"/);
    expect(page.html).toContain('<tfoot><tr><th scope="row">Total</th><td>$6.60</td><td>$5.30</td><td>$0</td>');
    expect(page.html).toContain('2 results charged $0.00024 in these months would have cost $0.00047 in real time, a saving of $0.00024.');
    expect(page.html).toContain('3 charges without stored usage or a known standard price are left out.');
    expect(page.html).not.toContain('$7.78');
    // Cost per batch result by day: the two results charged 118 µ$ each today (charges without a result left out).
    expect(page.html).toMatch(/<svg role="img" aria-labelledby="costs-chart-per-result-title costs-chart-per-result-desc"/);
    expect(page.html).toMatch(/<desc id="costs-chart-per-result-desc">\d{4}-\d{2}-\d{2}: \$0\.00012<\/desc>/);
  });

  it('show one chosen month by course, and refuse a malformed month', async () => {
    const old = await admin.get('/admin/costs?month=' + (await db().execute<{ m: string }>(sql`select to_char(now() - interval '13 months', 'YYYY-MM') as m`)).rows[0]!.m);
    expect(old.status).toBe(200);
    expect(old.html).toContain('<td>$9.00</td><td>$9.00</td><td>$0</td><td>$0</td>');
    expect(old.html).not.toContain('Philosophy 202</th>');
    const bad = await admin.get('/admin/costs?month=2026-13');
    expect(bad.status).toBe(400);
    expect(bad.html).toContain('Choose a month as YYYY-MM');
  });

  it('set a course budget that enforcement then applies: over the limit and frozen are refused', async () => {
    const set = await admin.post('/admin/costs/budgets', { scope: `course-${courseA}`, month, limit: '2.60' }, { htmx: true });
    expect(set.status).toBe(200);
    expect(set.html).not.toContain('<html');
    expect(set.html).toContain('Budget set.');
    expect(set.html).toContain('$2.50 of $2.60 (96%)');
    expect(set.html).toContain('Warning: 75% or more of the limit is used');
    const row = (await db().execute<{ id: number; limit_micros: number; frozen: boolean }>(sql`select id, limit_micros, frozen from budgets where course_id = ${courseA}`)).rows;
    expect(row).toEqual([{ id: expect.any(Number), limit_micros: 2_600_000, frozen: false }]);
    const budgetId = row[0]!.id;

    // 2,500,236 committed + 100,000 > 2,600,000: refused, nothing reserved.
    const over = await refusal(reserve(courseA, 100_000));
    expect(over.message).toContain('would exceed the monthly budget of course');
    await reserve(courseA, 99_764); // exactly up to the limit: accepted
    const full = await admin.get('/admin/costs');
    expect(full.html).toContain('$2.60 of $2.60 (100%)');
    expect(full.html).toContain('Limit reached: new batches for this scope are refused.');
    // Course B has no budget of its own.
    await reserve(courseB, 1);

    const frozen = await admin.post(`/admin/costs/budgets/${budgetId}/freeze`, { frozen: 'true' }, { htmx: true });
    expect(frozen.status).toBe(200);
    expect(frozen.html).toContain('Budget frozen');
    expect(frozen.html).toMatch(/<td[^>]*>Frozen<\/td>/);
    const refusedFrozen = await refusal(reserve(courseA, 1));
    expect(refusedFrozen.message).toContain('is frozen');
    const unfrozen = await admin.post(`/admin/costs/budgets/${budgetId}/freeze`, { frozen: 'false' }, { htmx: true });
    expect(unfrozen.html).toContain('Budget unfrozen.');

    const raised = await admin.post('/admin/costs/budgets', { scope: `course-${courseA}`, month, limit: '$10' }, { htmx: true });
    expect(raised.html).toContain('Budget limit changed.');
    await reserve(courseA, 1_000_000);

    const removed = await admin.post(`/admin/costs/budgets/${budgetId}/remove`, {}, { htmx: true });
    expect(removed.html).toContain('Budget removed.');
    expect(await count(sql`select count(*)::int as n from budgets where course_id = ${courseA}`)).toBe(0);
    const audit = await db().execute<{ action: string; actor_id: number; entity_id: string }>(sql`
      select action, actor_id, entity_id from audit_log where entity_type = 'budget' order by id`);
    expect(audit.rows.map((a) => a.action)).toEqual(['budget.created', 'budget.frozen', 'budget.unfrozen', 'budget.limit_changed', 'budget.removed']);
    expect(new Set(audit.rows.map((a) => a.entity_id))).toEqual(new Set([String(budgetId)]));
  });

  it('cap the whole platform with a platform budget', async () => {
    const set = await admin.post('/admin/costs/budgets', { scope: 'platform', month, limit: '4.00' });
    expect(set.status).toBe(200);
    expect(set.html).toContain('<html'); // a plain form post gets the whole page
    expect(set.html).toContain('Whole platform');
    // Committed now: 3,100,236 + 99,764 + 1 + 1,000,000 = 4,200,001 > 4,000,000.
    const refused = await refusal(reserve(courseB, 1));
    expect(refused.message).toContain('monthly budget of the platform');
    await db().execute(sql`delete from budgets where course_id is null`);
  });

  it('refuse bad budget input with a message beside the field, changing nothing', async () => {
    const before = await count(sql`select count(*)::int as n from budgets`);
    const audited = await count(sql`select count(*)::int as n from audit_log`);
    const ahead3 = (await db().execute<{ m: string }>(sql`select to_char(now() + interval '3 months', 'YYYY-MM') as m`)).rows[0]!.m;
    const cases: Array<[Record<string, string>, string, string]> = [
      [{ limit: 'abc' }, 'limit', 'at most two decimals and no thousands separators'],
      [{ limit: '' }, 'limit', 'Enter a monthly limit in dollars'],
      [{ limit: '0' }, 'limit', 'must be more than $0'],
      [{ limit: '0.00' }, 'limit', 'must be more than $0'],
      [{ limit: '12.345' }, 'limit', 'at most two decimals'],
      [{ limit: '1,000' }, 'limit', 'no thousands separators'],
      [{ limit: '-5' }, 'limit', 'at most two decimals'],
      [{ limit: '1000000.01' }, 'limit', 'at most $1,000,000'],
      [{ month: '2020-01' }, 'month', 'a month that is over'],
      [{ month: ahead3 }, 'month', 'up to 2 months ahead'],
      [{ month: 'soon' }, 'month', 'Choose a month.'],
      [{ scope: 'course-999999' }, 'scope', 'Choose the platform or one of its courses.'],
      [{ scope: 'everything' }, 'scope', 'Choose the platform or one of its courses.'],
    ];
    for (const [change, field, message] of cases) {
      const res = await admin.post('/admin/costs/budgets', { scope: 'platform', month, limit: '50', ...change }, { htmx: true });
      expect(res.status).toBe(422);
      expect(res.html).toMatch(new RegExp(`<p id="budget-${field}-error" class="field-error">[^<]*${message.replace(/[$.]/g, '\\$&')}`));
      expect(res.html).toMatch(new RegExp(`id="budget-${field}"[^>]*aria-invalid="true"`));
    }
    // What was typed stays in the form.
    const typed = await admin.post('/admin/costs/budgets', { scope: `course-${courseB}`, month, limit: '12.345' }, { htmx: true });
    expect(typed.html).toContain('value="12.345"');
    expect(typed.html).toContain(`<option value="course-${courseB}" selected>`);

    const badFreeze = await admin.post('/admin/costs/budgets/1/freeze', { frozen: 'maybe' }, { htmx: true });
    expect(badFreeze.status).toBe(422);
    expect(badFreeze.html).toContain('Say whether to freeze');
    expect((await admin.post('/admin/costs/budgets/999999/remove', {}, { htmx: true })).status).toBe(404);
    expect((await admin.post('/admin/costs/budgets/abc/freeze', { frozen: 'true' }, { htmx: true })).status).toBe(404);
    expect(await count(sql`select count(*)::int as n from budgets`)).toBe(before);
    expect(await count(sql`select count(*)::int as n from audit_log`)).toBe(audited);
  });

  it('keep each platform to its own spend and budgets', async () => {
    await admin.post('/admin/costs/budgets', { scope: `course-${courseA}`, month, limit: '20' }, { htmx: true });
    const budgetId = Number((await db().execute<{ id: number }>(sql`select id from budgets where course_id = ${courseA}`)).rows[0]!.id);

    const page = await foreignAdmin.get('/admin/costs');
    expect(page.status).toBe(200);
    expect(page.html).toContain('Foreign course');
    expect(page.html).toContain('<dd>$7.78</dd>');
    expect(page.html).not.toContain('Philosophy 202');
    expect(page.html).not.toContain('$20.00');
    expect(page.html).not.toContain(`course-${courseA}`);

    expect((await foreignAdmin.post(`/admin/costs/budgets/${budgetId}/freeze`, { frozen: 'true' }, { htmx: true })).status).toBe(404);
    expect((await foreignAdmin.post(`/admin/costs/budgets/${budgetId}/remove`, {}, { htmx: true })).status).toBe(404);
    const foreignSet = await foreignAdmin.post('/admin/costs/budgets', { scope: `course-${courseA}`, month, limit: '1' }, { htmx: true });
    expect(foreignSet.status).toBe(422);
    expect(foreignSet.html).toContain('Choose the platform or one of its courses.');
    const rows = await db().execute<{ limit_micros: number; frozen: boolean }>(sql`select limit_micros, frozen from budgets where course_id = ${courseA}`);
    expect(rows.rows).toEqual([{ limit_micros: 20_000_000, frozen: false }]);
  });

  it('deny instructors and students, changing nothing', async () => {
    const before = await count(sql`select count(*)::int as n from budgets`);
    for (const someone of [instructor, student]) {
      expect((await someone.get('/admin/costs')).status).toBe(403);
      const res = await someone.post('/admin/costs/budgets', { scope: 'platform', month, limit: '1' }, { htmx: true });
      expect(res.status).toBe(403);
    }
    expect(await count(sql`select count(*)::int as n from budgets`)).toBe(before);
  });
});
