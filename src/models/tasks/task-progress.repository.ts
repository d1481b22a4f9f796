import { sql } from 'drizzle-orm';
import type { Db } from '../../db/db.js';
import type { ReviewStatus } from '../assessments/assessments.table.js';

/**
 * One row per student of a task: everyone the course lists as a student (roster and launches) and anyone who
 * handed work in, with their latest attempt, its latest queue item and assessment, and their best decided score.
 */
export type TaskProgressRow = {
  student_id: number;
  name: string;
  sort_name: string;
  attempts: number;
  submission_id: number | null;
  attempt: number | null;
  submitted_at: Date | null;
  queue_item_id: number | null;
  q_status: string | null;
  priority: string | null;
  priority_rank: number | null;
  q_created_at: Date | null;
  not_before: Date | null;
  batch_id: number | null;
  batch_submitted_at: Date | null;
  q_attempts: number | null;
  q_max_attempts: number | null;
  last_error: string | null;
  assessment_id: number | null;
  kind: 'llm' | 'manual' | null;
  a_queue_item_id: number | null;
  review_status: ReviewStatus | null;
  rejected_to: 'queue' | 'manual' | null;
  score: number | null;
  override_score: number | null;
  max_score: number | null;
  needs_review: boolean | null;
  flag_count: number | null;
  computed_confidence: number | null;
  result: Record<string, unknown> | null;
  override_feedback: string | null;
  last_activity: Date | null;
  best_score: number | null;
};

export async function taskProgressRows(db: Db, courseId: number, taskId: number): Promise<TaskProgressRow[]> {
  const rows = await db.execute<TaskProgressRow>(sql`
    with students as (
      select u.id, coalesce(u.name, nullif(trim(concat(u.given_name, ' ', u.family_name)), ''), 'Student ' || left(u.sub, 8)) as name,
             lower(coalesce(u.family_name, u.name, u.sub)) as sort_name
      from users u
      where u.id in (select m.user_id from memberships m where m.course_id = ${courseId} and m.role = 'student' and m.active
                     union select s.student_id from submissions s where s.task_id = ${taskId} and s.course_id = ${courseId})
    )
    select st.id as student_id, st.name, st.sort_name,
           (select count(*)::int from submissions s where s.task_id = ${taskId} and s.student_id = st.id) as attempts,
           ls.id as submission_id, ls.attempt, ls.created_at as submitted_at,
           q.id as queue_item_id, q.status as q_status, q.priority, q.priority_rank, q.created_at as q_created_at, q.not_before, q.batch_id,
           b.submitted_at as batch_submitted_at, q.attempts as q_attempts, q.max_attempts as q_max_attempts, q.last_error,
           a.id as assessment_id, a.kind, a.queue_item_id as a_queue_item_id, a.review_status, a.rejected_to, a.score, a.override_score, a.max_score,
           a.needs_review, jsonb_array_length(a.flags) as flag_count, a.computed_confidence, a.result, a.override_feedback,
           greatest(ls.created_at, q.updated_at, a.updated_at) as last_activity,
           best.final as best_score
    from students st
    left join lateral (select * from submissions s where s.task_id = ${taskId} and s.student_id = st.id order by s.attempt desc limit 1) ls on true
    left join lateral (select * from queue_items qi where qi.submission_id = ls.id order by qi.id desc limit 1) q on true
    left join batches b on b.id = q.batch_id
    left join lateral (select * from assessments x where x.submission_id = ls.id order by x.id desc limit 1) a on true
    left join lateral (
      select max(case when x.review_status = 'overridden' then x.override_score else x.score end) as final
      from assessments x join submissions s2 on s2.id = x.submission_id
      where s2.task_id = ${taskId} and s2.student_id = st.id and x.review_status in ('approved', 'overridden')) best on true
    order by st.sort_name, st.id`);
  return rows.rows;
}

/** Marks the task's waiting items (all, or those of the given submissions) to be graded first. Returns how many. */
export async function raiseToHighPriority(db: Db, courseId: number, taskId: number, submissionIds: number[] | null, note: string): Promise<number> {
  const rows = await db.execute<{ id: number }>(sql`
    update queue_items set priority = 'high', priority_rank = 0, updated_at = now(),
           admin_notes = case when admin_notes = '' then ${note} else admin_notes || E'\n' || ${note} end
    where course_id = ${courseId} and task_id = ${taskId} and status = 'queued' and priority <> 'high'
      ${submissionIds ? sql`and submission_id = any(${sql.param(submissionIds)}::bigint[])` : sql``}
    returning id`);
  return rows.rows.length;
}
