import { sql } from 'drizzle-orm';
import type { MatrixArea, MatrixContext } from './types.js';
import { activatePrompt, allowLlm, submitMany } from '../helpers/queue-fixtures.js';
import { findActiveVersion } from '../../src/models/prompts/prompts.repository.js';

/** The instructor's task view: its CSV and its actions on waiting and failed work. */

/** A submission of the home task whose queue item is in `status` (queued, or failed as the engine leaves it). */
async function submissionWithItem(ctx: MatrixContext, status: 'queued' | 'failed'): Promise<{ submissionId: number }> {
  const db = ctx.stack.db.db;
  await allowLlm(db, ctx.home.courseId, ctx.home.instructorId);
  if (!(await findActiveVersion(db, ctx.home.taskId))) await activatePrompt(db, ctx.home, ctx.home.taskId);
  const student = (await db.execute<{ id: number }>(sql`
    select u.id from users u where u.platform_id = ${ctx.home.platformId}
    order by (select count(*) from submissions s where s.task_id = ${ctx.home.taskId} and s.student_id = u.id), u.id limit 1`)).rows[0]!;
  const [itemId] = await submitMany(ctx.stack, { ...ctx.home, task2Id: null }, ctx.home.taskId, Number(student.id), 1, 'A matrix answer');
  if (status === 'failed') await db.execute(sql`update queue_items set status = 'failed', last_error = 'matrix' where id = ${itemId!}`);
  const row = (await db.execute<{ submission_id: number }>(sql`select submission_id from queue_items where id = ${itemId!}`)).rows[0]!;
  return { submissionId: Number(row.submission_id) };
}

const area: MatrixArea = {
  name: 'tasks',
  routes: [
    { route: 'GET /instructor/tasks/:taskId/settings', allowed: ['instructor'], path: ({ taskId }) => `/instructor/tasks/${taskId}/settings`, tenantScoped: true },
    {
      route: 'POST /instructor/tasks/:taskId/settings',
      allowed: ['instructor'],
      path: ({ taskId }) => `/instructor/tasks/${taskId}/settings`,
      form: { title: 'Matrix task', maxAttempts: '100', attemptPolicy: 'last', latePolicy: 'accept', releasePolicy: 'after_approval' },
      tenantScoped: true,
    },
    { route: 'GET /instructor/tasks/:taskId/export.csv', allowed: ['instructor'], path: ({ taskId }) => `/instructor/tasks/${taskId}/export.csv`, tenantScoped: true },
    {
      route: 'POST /instructor/tasks/:taskId/grade-now',
      allowed: ['instructor'],
      path: ({ taskId }) => `/instructor/tasks/${taskId}/grade-now`,
      form: {},
      fresh: (ctx) => submissionWithItem(ctx, 'queued'),
      tenantScoped: true,
    },
    {
      route: 'POST /instructor/tasks/:taskId/submissions/:submissionId/retry',
      allowed: ['instructor'],
      path: ({ taskId, submissionId }) => `/instructor/tasks/${taskId}/submissions/${submissionId}/retry`,
      form: {},
      fresh: (ctx) => submissionWithItem(ctx, 'failed'),
      tenantScoped: true,
    },
    {
      route: 'POST /instructor/tasks/:taskId/submissions/:submissionId/grade-by-hand',
      allowed: ['instructor'],
      path: ({ taskId, submissionId }) => `/instructor/tasks/${taskId}/submissions/${submissionId}/grade-by-hand`,
      form: {},
      fresh: (ctx) => submissionWithItem(ctx, 'failed'),
      tenantScoped: true,
    },
  ],
};
export default area;
