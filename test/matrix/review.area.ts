import { sql } from 'drizzle-orm';
import { createAssessment, SUBS } from '../helpers/assessments.js';
import type { MatrixArea, MatrixContext } from './types.js';

/** Review (instructors, own course), its JSON API (administrators may read), and students' own feedback. */
const pending = async (ctx: MatrixContext) => ({ assessmentId: (await createAssessment(ctx.stack, { taskId: ctx.home.taskId, studentSub: SUBS.student1 })).id });

/** A released result of the matrix student's own (student1's), not appealed yet. */
const releasedOwn = async (ctx: MatrixContext) => {
  const a = await createAssessment(ctx.stack, { taskId: ctx.home.taskId, studentSub: SUBS.student1 });
  await ctx.stack.db.db.execute(sql`update assessments set review_status = 'approved', decision_seq = 1, reviewed_at = now(), released_at = now() where id = ${a.id}`);
  return { submissionId: a.submissionId, assessmentId: a.id };
};

/** A released result with an open appeal, for the instructor's answer. */
const appealed = async (ctx: MatrixContext) => {
  const ids = await releasedOwn(ctx);
  await ctx.stack.db.db.execute(sql`
    insert into appeals (platform_id, course_id, task_id, submission_id, assessment_id, student_id, reason)
    select a.platform_id, a.course_id, a.task_id, a.submission_id, a.id, s.student_id, 'matrix appeal' from assessments a join submissions s on s.id = a.submission_id where a.id = ${ids.assessmentId}`);
  return ids;
};

const area: MatrixArea = {
  name: 'review',
  async setup(ctx) {
    const { stack, home } = ctx;
    const page = await createAssessment(stack, { taskId: home.taskId, studentSub: SUBS.student1 });
    const released = await createAssessment(stack, { taskId: home.taskId, studentSub: SUBS.student1 });
    await stack.db.db.execute(sql`update assessments set review_status = 'approved', decision_seq = 1, reviewed_at = now(), released_at = now() where id = ${released.id}`);
    return { assessmentId: page.id, submissionId: released.submissionId };
  },
  routes: [
    { route: 'GET /instructor/review', allowed: ['instructor'], path: () => '/instructor/review' },
    { route: 'POST /instructor/review/bulk-approve', allowed: ['instructor'], path: () => '/instructor/review/bulk-approve', form: { ids: '999999' } },
    { route: 'GET /instructor/review/:assessmentId', allowed: ['instructor'], path: ({ assessmentId }) => `/instructor/review/${assessmentId}`, tenantScoped: true },
    { route: 'POST /instructor/review/:assessmentId/approve', allowed: ['instructor'], path: ({ assessmentId }) => `/instructor/review/${assessmentId}/approve`, form: { decisionSeq: '0' }, fresh: pending, tenantScoped: true },
    { route: 'POST /instructor/review/:assessmentId/override', allowed: ['instructor'], path: ({ assessmentId }) => `/instructor/review/${assessmentId}/override`, form: { decisionSeq: '0', score: '0', category: 'other', reason: 'matrix' }, fresh: pending, tenantScoped: true },
    { route: 'POST /instructor/review/:assessmentId/reject', allowed: ['instructor'], path: ({ assessmentId }) => `/instructor/review/${assessmentId}/reject`, form: { decisionSeq: '0', rejectTo: 'manual', note: 'matrix' }, fresh: pending, tenantScoped: true },
    {
      route: 'POST /instructor/review/:assessmentId/retry-sync',
      allowed: ['instructor'],
      path: ({ assessmentId }) => `/instructor/review/${assessmentId}/retry-sync`,
      form: {},
      fresh: async (ctx) => {
        const { assessmentId } = await pending(ctx);
        await ctx.stack.db.db.execute(sql`update assessments set review_status = 'approved', decision_seq = 1, reviewed_at = now(), grade_sync_status = 'failed', grade_sync_error = 'matrix' where id = ${assessmentId}`);
        return { assessmentId };
      },
      tenantScoped: true,
    },
    { route: 'GET /instructor/analytics', allowed: ['instructor'], path: () => '/instructor/analytics' },
    { route: 'POST /instructor/analytics/tasks/:taskId/review-threshold', allowed: ['instructor'], path: ({ taskId }) => `/instructor/analytics/tasks/${taskId}/review-threshold`, form: { threshold: '100', target: '10' }, tenantScoped: true },
    { route: 'GET /api/llm-assessments/pending-review/', allowed: ['instructor', 'administrator'], path: () => '/api/llm-assessments/pending-review/' },
    { route: 'GET /api/llm-assessments/:id/', allowed: ['instructor', 'administrator'], path: ({ assessmentId }) => `/api/llm-assessments/${assessmentId}/`, tenantScoped: true },
    { route: 'POST /api/llm-assessments/:id/review/', allowed: ['instructor'], path: ({ assessmentId }) => `/api/llm-assessments/${assessmentId}/review/`, json: { action: 'approve', decisionSeq: 0 }, fresh: pending, tenantScoped: true },
    {
      route: 'POST /student/submissions/:submissionId/appeal',
      allowed: ['student'],
      path: ({ submissionId }) => `/student/submissions/${submissionId}/appeal`,
      form: { reason: 'The matrix appeals this result.' },
      okStatus: 201,
      fresh: releasedOwn,
      tenantScoped: true,
    },
    {
      route: 'POST /student/submissions/:submissionId/rating',
      allowed: ['student'],
      path: ({ submissionId }) => `/student/submissions/${submissionId}/rating`,
      form: { rating: '4' },
      okStatus: 201,
      fresh: releasedOwn,
      tenantScoped: true,
    },
    {
      route: 'POST /instructor/review/:assessmentId/appeal',
      allowed: ['instructor'],
      path: ({ assessmentId }) => `/instructor/review/${assessmentId}/appeal`,
      form: { decisionSeq: '1', outcome: 'uphold', reply: 'matrix' },
      fresh: appealed,
      tenantScoped: true,
    },
    { route: 'GET /student/submissions/:submissionId', allowed: ['student'], path: ({ submissionId }) => `/student/submissions/${submissionId}`, tenantScoped: true },
    { route: 'GET /api/my/submissions/', allowed: ['student'], path: () => '/api/my/submissions/' },
    { route: 'GET /student/submissions/:submissionId/feedback', allowed: ['student'], path: ({ submissionId }) => `/student/submissions/${submissionId}/feedback`, tenantScoped: true },
  ],
};
export default area;
