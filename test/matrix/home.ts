import { sql } from 'drizzle-orm';
import type { Stack } from '../helpers/stack.js';
import type { MatrixContext } from './types.js';

/** The home tenant's ids the matrix works with: the dev LMS's course 101, its first task, its instructor and student. */
export async function matrixHome(stack: Stack): Promise<MatrixContext['home']> {
  const home = await stack.db.db.execute<{ platform_id: number; course_id: number; task_id: number; instructor_id: number; student_id: number }>(sql`
    select p.id as platform_id, c.id as course_id, t.id as task_id,
           (select id from users where platform_id = p.id and sub like '%5e01') as instructor_id,
           (select id from users where platform_id = p.id and sub like '%5e02') as student_id
    from tasks t join courses c on c.id = t.course_id join lti_platforms p on p.id = c.platform_id
    where c.context_id = 'course-101' and p.client_id = 'llm-assess-dev' order by t.id limit 1`);
  const h = home.rows[0]!;
  return { platformId: Number(h.platform_id), courseId: Number(h.course_id), taskId: Number(h.task_id), instructorId: Number(h.instructor_id), studentId: Number(h.student_id) };
}
