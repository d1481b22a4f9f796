import { sql } from 'drizzle-orm';
import type { MatrixArea, MatrixContext, Who } from './types.js';

/** A notice in the inbox of the home tenant's person of that role (the student when none is named). */
async function noticeFor(ctx: MatrixContext, who: Who = 'student'): Promise<{ notificationId: number }> {
  const db = ctx.stack.db.db;
  const userId =
    who === 'student' ? ctx.home.studentId
      : who === 'instructor' ? ctx.home.instructorId
        : Number((await db.execute<{ id: number }>(sql`select id from users where platform_id = ${ctx.home.platformId} and sub like '%5e05'`)).rows[0]!.id);
  const row = (await db.execute<{ id: number }>(sql`
    insert into notifications (platform_id, course_id, user_id, kind, title) values (${ctx.home.platformId}, ${ctx.home.courseId}, ${userId}, 'matrix', 'A matrix notice') returning id`)).rows[0]!;
  return { notificationId: Number(row.id) };
}

/** Every role's inbox; reading a notice is the person's own (another's is "not found"). */
const area: MatrixArea = {
  name: 'inbox',
  routes: [
    { route: 'GET /inbox', allowed: ['student', 'instructor', 'administrator'], path: () => '/inbox' },
    { route: 'POST /inbox/read-all', allowed: ['student', 'instructor', 'administrator'], path: () => '/inbox/read-all', form: {}, fresh: noticeFor },
    {
      route: 'POST /inbox/:notificationId/read',
      allowed: ['student', 'instructor', 'administrator'],
      path: ({ notificationId }) => `/inbox/${notificationId}/read`,
      form: {},
      fresh: noticeFor,
      tenantScoped: true,
    },
  ],
};
export default area;
