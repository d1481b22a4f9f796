import { sql } from 'drizzle-orm';
import type { MatrixArea, MatrixContext } from './types.js';
import { activatePrompt, allowLlm, setMaxAttempts, submitMany, type Home } from '../helpers/queue-fixtures.js';
import { createBatches } from '../../src/models/batches/batches.service.js';

/** Student submissions, the admin queue dashboard, batch pages and the queue/batches JSON API. */

const homeOf = (ctx: MatrixContext): Home => ({ ...ctx.home, task2Id: null });

/** Queued items from whichever person of the platform has used the fewest of a task's 100 attempts. */
async function queued(ctx: MatrixContext, n: number): Promise<number[]> {
  const rows = await ctx.stack.db.db.execute<{ id: number }>(sql`
    select u.id from users u where u.platform_id = ${ctx.home.platformId}
    order by (select count(*) from submissions s where s.task_id = ${ctx.home.taskId} and s.student_id = u.id), u.id limit 1`);
  return submitMany(ctx.stack, homeOf(ctx), ctx.home.taskId, Number(rows.rows[0]!.id), n, 'A matrix answer');
}

/** A new batch in state `created` (the minimum size of queued items, put into one batch). */
async function freshBatch(ctx: MatrixContext): Promise<number> {
  const ids = await queued(ctx, ctx.stack.config.batches.minSize);
  const { batches: [batch] } = await ctx.stack.db.db.transaction((tx) =>
    createBatches(tx, ctx.stack.config.batches, { platformId: ctx.home.platformId, userId: ctx.home.instructorId }, { scope: 'selected', ids }, {}),
  );
  return batch!.id;
}

/**
 * A queued submission of the home student, in a course that offers students priority grading with requests left
 * (the matrix asks once per allowed role; test/escalation.test.ts covers the limit).
 */
async function priorityCandidate(ctx: MatrixContext): Promise<{ submissionId: number }> {
  const db = ctx.stack.db.db;
  await allowLlm(db, ctx.home.courseId, ctx.home.instructorId);
  await activatePrompt(db, ctx.home, ctx.home.taskId);
  await db.execute(sql`update course_privacy set escalation = 'students', escalation_limit = 5 where course_id = ${ctx.home.courseId}`);
  const [itemId] = await submitMany(ctx.stack, homeOf(ctx), ctx.home.taskId, ctx.home.studentId, 1, 'A matrix answer');
  const row = (await db.execute<{ submission_id: number }>(sql`select submission_id from queue_items where id = ${itemId!}`)).rows[0]!;
  return { submissionId: Number(row.submission_id) };
}

const area: MatrixArea = {
  name: 'queue and batches',
  async setup(ctx) {
    await allowLlm(ctx.stack.db.db, ctx.home.courseId, ctx.home.instructorId);
    await activatePrompt(ctx.stack.db.db, ctx.home, ctx.home.taskId);
    const [itemId] = await queued(ctx, 1);
    return { itemId: itemId!, batchId: await freshBatch(ctx) };
  },
  routes: [
    { route: 'GET /student/tasks/:taskId/submissions', allowed: ['student'], path: ({ taskId }) => `/student/tasks/${taskId}/submissions`, tenantScoped: true },
    {
      route: 'POST /student/tasks/:taskId/submissions',
      allowed: ['student'],
      path: ({ taskId }) => `/student/tasks/${taskId}/submissions`,
      form: { text: 'My matrix answer.' },
      okStatus: 201,
      tenantScoped: true,
      fresh: async (ctx) => {
        const used = await ctx.stack.db.db.execute<{ n: number }>(sql`select count(*)::int as n from submissions where task_id = ${ctx.home.taskId} and student_id = ${ctx.home.studentId}`);
        await setMaxAttempts(ctx.stack.db.db, ctx.home.taskId, Math.min(100, Number(used.rows[0]!.n) + 1));
        return {};
      },
    },
    // Reads the chosen file and stores nothing; a form without a file answers "no file chosen" (a file cannot be sent
    // as a matrix form: test/submissions.files.test.ts covers the reading).
    { route: 'POST /student/tasks/:taskId/submissions/preview', allowed: ['student'], path: ({ taskId }) => `/student/tasks/${taskId}/submissions/preview`, form: { text: '' }, tenantScoped: true },
    {
      route: 'POST /student/tasks/:taskId/submissions/:submissionId/priority',
      allowed: ['student'],
      path: ({ taskId, submissionId }) => `/student/tasks/${taskId}/submissions/${submissionId}/priority`,
      form: {},
      okStatus: 202,
      tenantScoped: true,
      fresh: (ctx) => priorityCandidate(ctx),
    },
    { route: 'POST /admin/queue/actions', allowed: ['administrator'], path: () => '/admin/queue/actions', form: { scope: 'all', action: 'notes', notes: 'matrix' } },
    {
      route: 'POST /admin/batches',
      allowed: ['administrator'],
      path: () => '/admin/batches',
      form: { scope: 'all', f_priority: 'low' },
      okStatus: 201,
      fresh: async (ctx) => {
        const ids = await queued(ctx, ctx.stack.config.batches.minSize);
        await ctx.stack.db.db.execute(sql`update queue_items set priority = 'low', priority_rank = 2 where id = any(${sql.param(ids)}::bigint[])`);
        return {};
      },
    },
    { route: 'GET /admin/batches/:batchId', allowed: ['administrator'], path: ({ batchId }) => `/admin/batches/${batchId}`, tenantScoped: true },
    { route: 'POST /admin/batches/:batchId/submit', allowed: ['administrator'], path: ({ batchId }) => `/admin/batches/${batchId}/submit`, form: {}, tenantScoped: true, fresh: async (ctx) => ({ batchId: await freshBatch(ctx) }) },
    { route: 'POST /admin/batches/:batchId/cancel', allowed: ['administrator'], path: ({ batchId }) => `/admin/batches/${batchId}/cancel`, form: {}, tenantScoped: true, fresh: async (ctx) => ({ batchId: await freshBatch(ctx) }) },
    { route: 'POST /admin/batches/:batchId/notes', allowed: ['administrator'], path: ({ batchId }) => `/admin/batches/${batchId}/notes`, form: { notes: 'matrix' }, tenantScoped: true },

    { route: 'GET /api/admin/llm-queue/', allowed: ['administrator'], path: () => '/api/admin/llm-queue/' },
    { route: 'POST /api/admin/llm-queue/:id/priority/', allowed: ['administrator'], path: ({ itemId }) => `/api/admin/llm-queue/${itemId}/priority/`, json: { priority: 'high' }, tenantScoped: true },
    { route: 'POST /api/admin/llm-queue/:id/notes/', allowed: ['administrator'], path: ({ itemId }) => `/api/admin/llm-queue/${itemId}/notes/`, json: { notes: 'matrix' }, tenantScoped: true },
    {
      route: 'DELETE /api/admin/llm-queue/:id/',
      allowed: ['administrator'],
      path: ({ freshItem }) => `/api/admin/llm-queue/${freshItem}/`,
      tenantScoped: true,
      fresh: async (ctx) => ({ freshItem: (await queued(ctx, 1))[0]! }),
    },
    {
      route: 'POST /api/admin/llm-batches/create/',
      allowed: ['administrator'],
      path: () => '/api/admin/llm-batches/create/',
      json: { scope: 'all', filter: { priority: 'low' } },
      okStatus: 201,
      fresh: async (ctx) => {
        const ids = await queued(ctx, ctx.stack.config.batches.minSize);
        await ctx.stack.db.db.execute(sql`update queue_items set priority = 'low', priority_rank = 2 where id = any(${sql.param(ids)}::bigint[])`);
        return {};
      },
    },
    { route: 'POST /api/admin/llm-batches/:id/submit/', allowed: ['administrator'], path: ({ batchId }) => `/api/admin/llm-batches/${batchId}/submit/`, json: {}, okStatus: 202, tenantScoped: true, fresh: async (ctx) => ({ batchId: await freshBatch(ctx) }) },
    { route: 'GET /api/admin/llm-batches/', allowed: ['administrator'], path: () => '/api/admin/llm-batches/' },
    { route: 'GET /api/admin/llm-batches/:id/status/', allowed: ['administrator'], path: ({ batchId }) => `/api/admin/llm-batches/${batchId}/status/`, tenantScoped: true },
    { route: 'POST /api/admin/llm-batches/:id/cancel/', allowed: ['administrator'], path: ({ batchId }) => `/api/admin/llm-batches/${batchId}/cancel/`, json: {}, okStatus: 202, tenantScoped: true, fresh: async (ctx) => ({ batchId: await freshBatch(ctx) }) },
  ],
};
export default area;
