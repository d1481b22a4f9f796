import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { sql } from 'drizzle-orm';
import { insertNotification } from '../src/models/notifications/notifications.repository.js';
import { startStack, type Stack } from './helpers/stack.js';
import type { ToolSession } from './helpers/lti-browser.js';
import { homeIds } from './helpers/assessments.js';
import { seedTenant, submitThroughService } from './helpers/batch-fixtures.js';
import { raiseBudgetAlerts } from '../src/models/budgets/budget-alerts.service.js';
import { createBatches } from '../src/models/batches/batches.service.js';
import { setBudget } from '../src/models/budgets/budget-admin.service.js';
import { budgetForm } from '../src/models/budgets/budgets.schema.js';

/**
 * Budget alerts: a threshold reached for the first time tells the platform's administrators once (the highest
 * reached, when several are at once), a new limit starts the alerts afresh, spend committed by a batch raises
 * them, and administrators see and dismiss them on their overview.
 */
describe('budget alerts', () => {
  let stack: Stack;
  let admin: ToolSession;
  let platformId: number;
  let courseId: number;
  let key = 0;
  const db = () => stack.db.db;

  /** Money committed to the home course this month (a reservation or a charge). */
  const commit = (micros: number, kind: 'reservation' | 'charge' = 'reservation') =>
    db().execute(sql`
      insert into cost_ledger (platform_id, course_id, month, kind, amount_micros, idempotency_key)
      values (${platformId}, ${courseId}, date_trunc('month', now())::date, ${kind}, ${micros}, ${`alerts-test-${(key += 1)}`})`);
  const alertsOf = async (scope: number | null) =>
    (await db().execute<{ title: string; body: string; severity: string }>(sql`
      select title, body, severity from notifications
      where platform_id = ${platformId} and kind = 'budget_alert' and course_id is not distinct from ${scope} order by id`)).rows;
  const sent = async (budgetId: number) => (await db().execute<{ s: number[] }>(sql`select alerts_sent as s from budgets where id = ${budgetId}`)).rows[0]!.s;
  /** A budget warning at 50 % and 80 % (set per budget; the form's defaults are tested on their own below). */
  const budget = async (scope: number | null, limitMicros: number) =>
    Number(
      (await db().execute<{ id: number }>(sql`
        insert into budgets (platform_id, course_id, month, limit_micros, alert_thresholds)
        values (${platformId}, ${scope}, date_trunc('month', now())::date, ${limitMicros}, '{50,80,100}') returning id`)).rows[0]!.id,
    );

  beforeAll(async () => {
    stack = await startStack();
    admin = await stack.browser().launch(stack.devlmsUrl, 'admin');
    await stack.browser().launch(stack.devlmsUrl, 'instructor', { task: '1' });
    ({ platformId, courseId } = await homeIds(stack));
  }, 120_000);
  afterAll(async () => {
    await stack?.close();
  });

  it('announce each threshold once, as spend reaches it, and the limit itself as an error', async () => {
    const id = await budget(courseId, 1_000_000);
    await commit(400_000);
    expect(await raiseBudgetAlerts(db(), platformId)).toEqual([]);
    await commit(100_000);
    expect(await raiseBudgetAlerts(db(), platformId)).toEqual([{ budgetId: id, courseId, threshold: 50, committedMicros: 500_000, limitMicros: 1_000_000 }]);
    expect(await raiseBudgetAlerts(db(), platformId)).toEqual([]);
    await commit(350_000);
    expect((await raiseBudgetAlerts(db(), platformId)).map((a) => a.threshold)).toEqual([80]);
    // Results cost more than estimated: past the limit.
    await commit(400_000, 'charge');
    expect((await raiseBudgetAlerts(db(), platformId)).map((a) => a.threshold)).toEqual([100]);
    expect(await raiseBudgetAlerts(db(), platformId)).toEqual([]);
    expect(await sent(id)).toEqual([50, 80, 100]);

    const alerts = await alertsOf(courseId);
    expect(alerts.map((a) => [a.severity, a.title.replace(/of \w+ \d{4}/, 'of <month>')])).toEqual([
      ['warning', expect.stringMatching(/^Budget of course ".+": 50% of <month> used$/)],
      ['warning', expect.stringMatching(/: 80% of <month> used$/)],
      ['error', expect.stringMatching(/: 100% of <month> used$/)],
    ]);
    expect(alerts[0]!.body).toBe('$0.5000 of $1.0000 is spent or committed to batches in flight.');
    expect(alerts[2]!.body).toBe('$1.2500 of $1.0000 is spent or committed to batches in flight. New batches for this scope are refused until the limit is raised.');
  });

  it('name only the highest threshold when several are reached at once; a new limit starts them afresh', async () => {
    // The platform's budget, set when its spend (the course's 1.25 above) is already past every threshold.
    const id = await budget(null, 1_000_000);
    expect((await raiseBudgetAlerts(db(), platformId)).map((a) => [a.courseId, a.threshold])).toEqual([[null, 100]]);
    expect(await sent(id)).toEqual([50, 80, 100]);
    expect(await alertsOf(null)).toHaveLength(1);

    // Raised through the Costs page to $20: nothing reached any more, nothing announced.
    const month = (await db().execute<{ m: string }>(sql`select to_char(now(), 'YYYY-MM') as m`)).rows[0]!.m;
    const raised = await admin.post('/admin/costs/budgets', { scope: 'platform', month, limit: '20' }, { htmx: true });
    expect(raised.status).toBe(200);
    expect(await sent(id)).toEqual([]);
    expect(await alertsOf(null)).toHaveLength(1);
    // Lowered to $2: 62.5% used, announced at once.
    await admin.post('/admin/costs/budgets', { scope: 'platform', month, limit: '2' }, { htmx: true });
    expect(await sent(id)).toEqual([50]);
    expect((await alertsOf(null)).at(-1)!.title).toMatch(/^Budget of the platform: 50% of \w+ \d{4} used$/);
  });

  it('warn at 75, 90 and 95 % unless the administrator names others, which the form checks and keeps', async () => {
    const month = (await db().execute<{ m: string }>(sql`select to_char(now() + interval '1 month', 'YYYY-MM') as m`)).rows[0]!.m;
    const thresholdsOf = async () => (await db().execute<{ t: number[] }>(sql`select alert_thresholds as t from budgets where platform_id = ${platformId} and course_id = ${courseId} and month = ${`${month}-01`}::date`)).rows[0]?.t;
    const set = (fields: Record<string, string>) => admin.post('/admin/costs/budgets', { scope: `course-${courseId}`, month, limit: '10', ...fields }, { htmx: true });

    expect((await set({})).status).toBe(200);
    expect(await thresholdsOf()).toEqual([75, 90, 95, 100]);
    const custom = await set({ warnAt: '85, 60%, 60' });
    expect(custom.status).toBe(200);
    expect(await thresholdsOf()).toEqual([60, 85, 100]);
    expect(custom.html).toMatch(/<td[^>]*>60%, 85%<\/td>/);
    // A new limit without thresholds typed keeps the budget's own.
    expect((await set({ limit: '12' })).status).toBe(200);
    expect(await thresholdsOf()).toEqual([60, 85, 100]);
    for (const bad of ['0, 50', '100', '50, x', '10, 20, 30, 40, 50, 60']) {
      const refused = await set({ warnAt: bad });
      expect([bad, refused.status]).toEqual([bad, 422]);
      expect(refused.html).toContain('Enter up to five whole percentages between 1 and 99');
      expect(refused.html).toContain(`value="${bad}"`);
      expect(await thresholdsOf()).toEqual([60, 85, 100]);
    }
  });

  it('are raised by the reservations of a new batch, for that platform only', async () => {
    const t = await seedTenant(db());
    const items = await submitThroughService(db(), stack.config, t, 2);
    const estimate = Number((await db().execute<{ n: number }>(sql`select sum(est_cost_micros)::int8 as n from queue_items where id = any(${sql.param(items)}::bigint[])`)).rows[0]!.n);
    await db().execute(sql`
      insert into budgets (platform_id, course_id, month, limit_micros, alert_thresholds)
      values (${t.platformId}, ${t.courseId}, date_trunc('month', now())::date, ${Math.ceil(estimate * 1.5)}, '{50,80,100}')`);
    const homeBefore = (await db().execute<{ n: number }>(sql`select count(*)::int as n from notifications where platform_id = ${platformId}`)).rows[0]!.n;

    await db().transaction((tx) => createBatches(tx, { ...stack.config.batches, minSize: 1 }, t.admin, { scope: 'selected', ids: items }, {}));
    const alerts = await db().execute<{ title: string }>(sql`select title from notifications where platform_id = ${t.platformId} and kind = 'budget_alert'`);
    expect(alerts.rows.map((r) => r.title)).toEqual([expect.stringMatching(/: 50% of \w+ \d{4} used$/)]);
    expect((await db().execute<{ n: number }>(sql`select count(*)::int as n from notifications where platform_id = ${platformId}`)).rows[0]!.n).toBe(homeBefore);
  });

  it('show on the administrator overview until dismissed; an unknown one is a 404 and changes nothing', async () => {
    const page = await admin.get('/admin');
    expect(page.status).toBe(200);
    expect(page.html).toContain('<h2 id="admin-alerts-title">Alerts</h2>');
    expect(page.html).toMatch(/class="alert alert-error">\s*<strong>Budget of the platform: 100% of \w+ \d{4} used<\/strong>/);
    const id = Number((await db().execute<{ id: number }>(sql`select id from notifications where platform_id = ${platformId} and course_id is null order by id limit 1`)).rows[0]!.id);
    expect(page.html).toContain(`/admin/notifications/${id}/dismiss`);

    const unknown = await admin.post('/admin/notifications/999999999/dismiss', {}, { htmx: true });
    expect(unknown.status).toBe(404);
    expect(unknown.html).toContain('The notification was not found.');

    const dismissed = await admin.post(`/admin/notifications/${id}/dismiss`, {}, { htmx: true });
    expect(dismissed.status).toBe(200);
    expect(dismissed.html).not.toContain('<html');
    expect(dismissed.html).toContain('Notification dismissed.');
    expect(dismissed.html).not.toContain(`/admin/notifications/${id}/dismiss`);
    const read = (await db().execute<{ n: number }>(sql`select count(*)::int as n from notifications where platform_id = ${platformId} and read_at is null`)).rows[0]!.n;
    // Each alert left has its dismiss form (action and hx-post).
    expect(read).toBeGreaterThan(0);
    expect((await admin.get('/admin')).html.match(/\/admin\/notifications\/\d+\/dismiss/g)?.length ?? 0).toBe(read * 2);
  });

  it('dismisses the alerts of one budget stacked under the one dismissed, and nothing of another budget or newer', async () => {
    const add = async (courseId: number | null, threshold: number) => {
      await insertNotification(db(), { platformId, courseId, userId: null, kind: 'budget_alert', severity: 'warning', title: `Stacked ${courseId ?? 'platform'} ${threshold}%`, body: '', link: '/admin/costs' });
      return Number((await db().execute<{ id: number }>(sql`select max(id) as id from notifications`)).rows[0]!.id);
    };
    const [a75, a90, a95] = [await add(courseId, 75), await add(courseId, 90), await add(courseId, 95)];
    const other = await add(null, 75);
    const newer = await add(courseId, 100);
    // With the three, any earlier unread alert of this course's budget (the tests above raised some).
    const stacked = Number((await db().execute<{ n: number }>(sql`
      select count(*)::int as n from notifications where platform_id = ${platformId} and course_id = ${courseId} and kind = 'budget_alert' and read_at is null and id <= ${a95!}`)).rows[0]!.n);
    expect(stacked).toBeGreaterThanOrEqual(3);
    const res = await admin.post(`/admin/notifications/${a95}/dismiss`, {}, { htmx: true });
    expect(res.status).toBe(200);
    expect(res.html).toContain(`${stacked} alerts of this budget dismissed`);
    const unread = async (ids: number[]) =>
      (await db().execute<{ id: number }>(sql`select id from notifications where id = any(${sql.param(ids)}::bigint[]) and read_at is null order by id`)).rows.map((r) => Number(r.id));
    expect(await unread([a75!, a90!, a95!, other, newer])).toEqual([other, newer]);
    expect(Number((await db().execute<{ n: number }>(sql`
      select count(*)::int as n from notifications where platform_id = ${platformId} and course_id = ${courseId} and read_at is null and id < ${a95!}`)).rows[0]!.n)).toBe(0);
  });

  it('a limit set while a batch reserves against this month\'s budgets waits its turn, never a deadlock', async () => {
    // This month's budgets of the platform: the course's (lower id) and the platform's (higher id), made above.
    const ids = (await db().execute<{ id: number; course_id: number | null }>(sql`
      select id, course_id from budgets where platform_id = ${platformId} and month = date_trunc('month', now())::date order by id`)).rows;
    expect(ids.map((b) => b.course_id)).toEqual([courseId, null]);
    const [low, high] = ids.map((b) => Number(b.id)) as [number, number];
    const userId = Number((await db().execute<{ id: number }>(sql`select min(id) as id from users`)).rows[0]!.id);
    const month = (await db().execute<{ m: string }>(sql`select to_char(now(), 'YYYY-MM') as m`)).rows[0]!.m;

    let releaseReserver!: () => void;
    const reserverMayGoOn = new Promise<void>((r) => (releaseReserver = r));
    let reserverHoldsLow!: () => void;
    const lowHeld = new Promise<void>((r) => (reserverHoldsLow = r));
    // A batch reserving: it locks the budgets in id order, the course's first, then the platform's.
    const reserver = db().transaction(async (tx) => {
      await tx.execute(sql`select id from budgets where id = ${low} for update`);
      reserverHoldsLow();
      await reserverMayGoOn;
      await tx.execute(sql`select id from budgets where id = ${high} for update`);
    });
    await lowHeld;
    // Meanwhile the administrator changes the platform's limit (the higher id).
    const setting = db().transaction((tx) => setBudget(tx, { platformId, userId }, budgetForm.parse({ scope: 'platform', month, limit: '30' })));
    // Once it waits for a lock, the reserver goes on to the platform's budget.
    for (let i = 0; i < 100; i += 1) {
      const waiting = await db().execute<{ n: number }>(sql`select count(*)::int as n from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'`);
      if (waiting.rows[0]!.n > 0) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    releaseReserver();
    // Locking the platform's budget before the course's, the limit would hold what the reserver waits for while
    // waiting for what it holds: PostgreSQL would fail one of them ("deadlock detected").
    const outcomes = await Promise.allSettled([reserver, setting]);
    expect(outcomes.map((o) => (o.status === 'rejected' ? String(o.reason) : 'ok'))).toEqual(['ok', 'ok']);
    expect(Number((await db().execute<{ l: number }>(sql`select limit_micros as l from budgets where id = ${high}`)).rows[0]!.l)).toBe(30_000_000);
  });
});
