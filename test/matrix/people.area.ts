import { sql } from 'drizzle-orm';
import { insertPersonRequest } from '../../src/models/privacy/person-data.repository.js';
import { recordConsent } from '../../src/models/privacy/consent.repository.js';
import { CURRENT_CONSENT } from '../../src/models/privacy/consent.js';
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

async function consentToWithdraw(ctx: MatrixContext): Promise<Record<string, number>> {
  const rows = await ctx.stack.db.db.execute<{ id: number }>(sql`
    insert into courses (platform_id, deployment_id, context_id, title) values (${ctx.home.platformId}, 'matrix', ${`consent-${Date.now()}-${Math.random()}`}, 'Consent course') returning id`);
  const consentCourseId = Number(rows.rows[0]!.id);
  await recordConsent(ctx.stack.db.db, consentCourseId, ctx.home.studentId, CURRENT_CONSENT.version);
  return { consentCourseId };
}

/** People and their data (issue 17, item 6): administrators export and delete; a student sees theirs and asks. */
const area: MatrixArea = {
  name: 'people',
  async setup(ctx) {
    return { personId: await stranger(ctx), ...(await openRequest(ctx)), ...(await consentToWithdraw(ctx)) };
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
    {
      route: 'POST /student/my-data/consent/:courseId/withdraw',
      allowed: ['student'],
      path: ({ consentCourseId }) => `/student/my-data/consent/${consentCourseId}/withdraw`,
      form: {},
      // A standing consent of the home student in a course of their own (withdrawing it skips their queued work
      // there, which the queue routes' cases must keep), given before each withdrawal.
      fresh: consentToWithdraw,
      tenantScoped: true,
    },
  ],
};
export default area;
