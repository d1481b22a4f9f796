import { sql } from 'drizzle-orm';
import type { Db } from '../../db/db.js';

/** A task's gradebook column as we know it, with the registration (client) to ask about it. */
export interface TaskColumn {
  taskId: number;
  platformId: number;
  courseId: number;
  issuer: string;
  clientId: string;
  lineItemUrl: string | null;
  maxScore: number;
}

export async function findTaskColumn(db: Db, taskId: number): Promise<TaskColumn | undefined> {
  const rows = await db.execute<{ task_id: number; platform_id: number; course_id: number; issuer: string; client_id: string; line_item_url: string | null; max_score: string }>(sql`
    select t.id as task_id, c.platform_id, t.course_id, p.issuer, p.client_id, t.line_item_url, t.max_score
    from tasks t join courses c on c.id = t.course_id
    -- The client whose launch named the column: Moodle lets only that registration read it.
    join lti_platforms p on p.id = coalesce(t.registration_id, c.platform_id)
    where t.id = ${taskId}`);
  const r = rows.rows[0];
  return r && { taskId: Number(r.task_id), platformId: Number(r.platform_id), courseId: Number(r.course_id), issuer: r.issuer, clientId: r.client_id, lineItemUrl: r.line_item_url, maxScore: Number(r.max_score) };
}

/** Sets the task's maximum to its column's; false when it already was (nothing written). */
export async function setTaskMaxScore(db: Db, taskId: number, maxScore: number): Promise<boolean> {
  const rows = await db.execute(sql`update tasks set max_score = ${maxScore}, updated_at = now() where id = ${taskId} and max_score <> ${maxScore} returning id`);
  return rows.rows.length > 0;
}
