import { sql } from 'drizzle-orm';
import type { MatrixArea, MatrixContext } from './types.js';

/** The administrator's Costs page: spend report, monthly budgets (set, freeze, remove) and cancelling unfinished batches. */

/** A budget of next month: the home course's (kept), or the platform's (for removal: created again each time). */
async function budget(ctx: MatrixContext, courseId: number | null): Promise<number> {
  const rows = await ctx.stack.db.db.execute<{ id: number }>(sql`
    insert into budgets (platform_id, course_id, month, limit_micros)
    values (${ctx.home.platformId}, ${courseId}, (date_trunc('month', now()) + interval '1 month')::date, 5000000)
    on conflict on constraint budgets_scope_month_key do update set limit_micros = excluded.limit_micros
    returning id`);
  return Number(rows.rows[0]!.id);
}

/**
 * A batch created and not sent, without requests: what the Costs page's cancel acts on. Made directly, so this
 * area leaves the home task's prompt and queue to the areas about them.
 */
async function unsentBatch(ctx: MatrixContext): Promise<number> {
  const rows = await ctx.stack.db.db.execute<{ id: number }>(sql`
    insert into batches (platform_id, provider, model) values (${ctx.home.platformId}, 'openai', 'gpt-4o-mini') returning id`);
  return Number(rows.rows[0]!.id);
}

const area: MatrixArea = {
  name: 'costs and budgets',
  setup: async (ctx) => {
    // This month's platform budget exists, so the API's set-a-budget answers 200 (a change) every time.
    await ctx.stack.db.db.execute(sql`
      insert into budgets (platform_id, course_id, month, limit_micros) values (${ctx.home.platformId}, null, date_trunc('month', now())::date, 100000000)
      on conflict on constraint budgets_scope_month_key do nothing`);
    return { budgetId: await budget(ctx, ctx.home.courseId), batchId: await unsentBatch(ctx) };
  },
  routes: [
    { route: 'GET /admin/costs', allowed: ['administrator'], path: () => '/admin/costs' },
    { route: 'POST /admin/costs/budgets', allowed: ['administrator'], path: () => '/admin/costs/budgets', form: { scope: 'platform', month: new Date().toISOString().slice(0, 7), limit: '100' } },
    { route: 'POST /admin/costs/budgets/:budgetId/freeze', allowed: ['administrator'], path: ({ budgetId }) => `/admin/costs/budgets/${budgetId}/freeze`, form: { frozen: 'false' }, tenantScoped: true },
    {
      route: 'POST /admin/costs/budgets/:budgetId/remove',
      allowed: ['administrator'],
      path: ({ budgetId }) => `/admin/costs/budgets/${budgetId}/remove`,
      form: {},
      tenantScoped: true,
      fresh: async (ctx) => ({ budgetId: await budget(ctx, null) }),
    },
    {
      route: 'POST /admin/costs/batches/:batchId/cancel',
      allowed: ['administrator'],
      path: ({ batchId }) => `/admin/costs/batches/${batchId}/cancel`,
      form: {},
      tenantScoped: true,
      fresh: async (ctx) => ({ batchId: await unsentBatch(ctx) }),
    },
    // Budgets that do not exist: 404, nothing changed (the form cannot carry the setup's ids; test/budgets.rollover.test.ts moves real ones).
    { route: 'POST /admin/costs/budgets/move', allowed: ['administrator'], path: () => '/admin/costs/budgets/move', form: { from: '999999998', to: '999999999', amount: '1' }, okStatus: 404 },
    {
      route: 'POST /admin/costs/override',
      allowed: ['administrator'],
      path: () => '/admin/costs/override',
      // An item that does not exist: refused beside the field, nothing changed (the form's body cannot carry a fresh
      // id; test/budgets.freeze.test.ts sends real ones).
      form: { ids: '999999999', reason: 'The matrix needs this graded now.' },
      okStatus: 422,
    },
    { route: 'GET /api/llm-costs/summary/', allowed: ['administrator'], path: () => '/api/llm-costs/summary/?groupBy=course' },
    { route: 'GET /api/llm-costs/budget-status/', allowed: ['administrator'], path: () => '/api/llm-costs/budget-status/' },
    { route: 'POST /api/llm-costs/budgets/', allowed: ['administrator'], path: () => '/api/llm-costs/budgets/', json: { month: new Date().toISOString().slice(0, 7), limit: 100 } },
    { route: 'POST /api/llm-costs/budgets/:budgetId/freeze/', allowed: ['administrator'], path: ({ budgetId }) => `/api/llm-costs/budgets/${budgetId}/freeze/`, json: { frozen: false }, tenantScoped: true },
  ],
};
export default area;
