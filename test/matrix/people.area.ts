import { sql } from 'drizzle-orm';
import { insertPersonRequest } from '../../src/models/privacy/person-data.repository.js';
import type { MatrixArea, MatrixContext } from './types.js';

/** A person of the home platform the routes may delete (never one of the sessions' people). */
async function stranger(ctx: MatrixContext): Promise<number> {
  const rows = await ctx.stack.db.db.execute<{ id: number }>(sql`
    insert into users (platform_id, sub, name) values (${ctx.home.platformId}, ${`matrix-${Date.now()}-${Math.random()}`}, 'Matrix Person') returning id`);
  return Number(rows.rows[0]!.id);
}

/** A student's request waiting for an administrator, about a stranger of the home platform. */
async function openRequest(ctx: MatrixContext): Promise<Record<string, number>> {
  const userId = await stranger(ctx);
  const requestId = await insertPersonRequest(ctx.stack.db.db, { platformId: ctx.home.platformId, userId, source: 'student', requestedBy: userId, status: 'requested', decidedBy: null });
  return { requestId, personId: userId };
}

/** People and their data (issue 17, item 6): administrators export and delete; a student sees theirs and asks. */
const area: MatrixArea = {
  name: 'people',
  async setup(ctx) {
    return { personId: await stranger(ctx), ...(await openRequest(ctx)) };
  },
  routes: [
    { route: 'GET /admin/people', allowed: ['administrator'], path: () => '/admin/people?q=a' },
    { route: 'GET /admin/people/:userId', allowed: ['administrator'], path: ({ studentId }) => `/admin/people/${studentId}`, tenantScoped: true },
    { route: 'GET /admin/people/:userId/export', allowed: ['administrator'], path: ({ studentId }) => `/admin/people/${studentId}/export`, tenantScoped: true },
    { route: 'GET /admin/people/:userId/export.json', allowed: ['administrator'], path: ({ studentId }) => `/admin/people/${studentId}/export.json`, tenantScoped: true },
    {
      route: 'POST /admin/people/:userId/erase',
      allowed: ['administrator'],
      path: ({ personId }) => `/admin/people/${personId}/erase`,
      form: { confirm: 'yes' },
      fresh: async (ctx) => ({ personId: await stranger(ctx) }),
      tenantScoped: true,
    },
    {
      route: 'POST /admin/people/requests/:requestId/decline',
      allowed: ['administrator'],
      path: ({ requestId }) => `/admin/people/requests/${requestId}/decline`,
      form: {},
      fresh: openRequest,
      tenantScoped: true,
    },
    { route: 'GET /api/people/:userId/export/', allowed: ['administrator'], path: ({ studentId }) => `/api/people/${studentId}/export/`, tenantScoped: true },
    {
      route: 'DELETE /api/people/:userId/',
      allowed: ['administrator'],
      path: ({ personId }) => `/api/people/${personId}/`,
      json: {},
      okStatus: 202,
      fresh: async (ctx) => ({ personId: await stranger(ctx) }),
      tenantScoped: true,
    },
    { route: 'GET /student/my-data', allowed: ['student'], path: () => '/student/my-data' },
    { route: 'GET /student/my-data.json', allowed: ['student'], path: () => '/student/my-data.json' },
    { route: 'POST /student/my-data/erasure', allowed: ['student'], path: () => '/student/my-data/erasure', form: {} },
  ],
};
export default area;
