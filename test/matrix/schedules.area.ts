import { sql } from 'drizzle-orm';
import type { MatrixArea, MatrixContext } from './types.js';

/** Batch schedules and automatic mode (issue 20): the list, one schedule, create, change, pause and resume. */
async function schedule(ctx: MatrixContext, paused = false): Promise<number> {
  const rows = await ctx.stack.db.db.execute<{ id: number }>(sql`
    insert into batch_schedules (platform_id, name, trigger, interval_minutes, min_items, max_items, next_run_at, created_by, paused_at)
    values (${ctx.home.platformId}, 'Matrix schedule', 'interval', 60, 1, 100, now() + interval '1 hour', ${ctx.home.instructorId}, ${paused ? sql`now()` : null})
    returning id`);
  return Number(rows.rows[0]!.id);
}

const FORM = { name: 'Hourly', trigger: 'interval', intervalMinutes: '60', minItems: '1', maxItems: '100', sending: 'confirm' };

const area: MatrixArea = {
  name: 'batch schedules',
  setup: async (ctx) => ({ scheduleId: await schedule(ctx) }),
  routes: [
    { route: 'GET /admin/schedules', allowed: ['administrator'], path: () => '/admin/schedules' },
    { route: 'POST /admin/schedules', allowed: ['administrator'], path: () => '/admin/schedules', form: FORM },
    { route: 'GET /admin/schedules/:scheduleId', allowed: ['administrator'], path: ({ scheduleId }) => `/admin/schedules/${scheduleId}`, tenantScoped: true },
    { route: 'POST /admin/schedules/:scheduleId', allowed: ['administrator'], path: ({ scheduleId }) => `/admin/schedules/${scheduleId}`, form: FORM, tenantScoped: true },
    {
      route: 'POST /admin/schedules/:scheduleId/pause',
      allowed: ['administrator'],
      path: ({ scheduleId }) => `/admin/schedules/${scheduleId}/pause`,
      form: {},
      tenantScoped: true,
      fresh: async (ctx) => ({ scheduleId: await schedule(ctx) }),
    },
    {
      route: 'POST /admin/schedules/:scheduleId/resume',
      allowed: ['administrator'],
      path: ({ scheduleId }) => `/admin/schedules/${scheduleId}/resume`,
      form: {},
      tenantScoped: true,
      fresh: async (ctx) => ({ scheduleId: await schedule(ctx, true) }),
    },
  ],
};
export default area;
