import { sql } from 'drizzle-orm';
import type { MatrixArea } from './types.js';

/**
 * Notices to a platform's administrators (budget alerts), dismissed from the admin overview; the Notifications
 * page (e-mail status, failures, each event's wording of the platform).
 */
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
    { route: 'GET /admin/notifications', allowed: ['administrator'], path: () => '/admin/notifications' },
    { route: 'GET /admin/notifications/wording', allowed: ['administrator'], path: () => '/admin/notifications/wording?kind=feedback_ready' },
    {
      route: 'POST /admin/notifications/wording',
      allowed: ['administrator'],
      path: () => '/admin/notifications/wording',
      form: { kind: 'feedback_ready', subject: 'Feedback on {task_title}', body: 'Score: {score} / {max_score}' },
    },
    { route: 'POST /admin/notifications/wording/reset', allowed: ['administrator'], path: () => '/admin/notifications/wording/reset', form: { kind: 'feedback_ready' } },
  ],
};
export default area;
