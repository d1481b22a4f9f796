import { sql } from 'drizzle-orm';
import type { MatrixArea } from './types.js';

/** Notices to a platform's administrators (budget alerts), dismissed from the admin overview. */
const area: MatrixArea = {
  name: 'admin notifications',
  setup: async (ctx) => {
    const rows = await ctx.stack.db.db.execute<{ id: number }>(sql`
      insert into notifications (platform_id, kind, severity, title) values (${ctx.home.platformId}, 'budget_alert', 'warning', 'Matrix alert') returning id`);
    return { notificationId: Number(rows.rows[0]!.id) };
  },
  routes: [
    {
      route: 'POST /admin/notifications/:notificationId/dismiss',
      allowed: ['administrator'],
      path: ({ notificationId }) => `/admin/notifications/${notificationId}/dismiss`,
      form: {},
      tenantScoped: true,
    },
  ],
};
export default area;
