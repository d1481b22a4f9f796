import { sql } from 'drizzle-orm';
import type pg from 'pg';
import type { RootDb } from '../../src/db/db.js';
import { ROLE } from '../../src/devlms/lti/claims.js';

/**
 * `n` students of the dev LMS's course (people and memberships of `course-101`), each with one approved grade in
 * the tool waiting to be posted (a graded-by-hand assessment of 70 / 100, sync pending), written in bulk: what an
 * instructor's bulk approval of a large course leaves for grade passback. Returns the assessment ids.
 */
export async function seedPendingGrades(db: RootDb, lmsPool: pg.Pool, target: { platformId: number; courseId: number; taskId: number }, n: number, tag = 'bulk'): Promise<number[]> {
  await lmsPool.query(
    `insert into devlms.users (login, sub, name, given_name, family_name, email, institution_roles, position)
     select $1 || g, $1 || '-sub-' || g, 'Student ' || g, 'Student', 'Number ' || g, $1 || g || '@example.edu', '{}', 1000 + g from generate_series(1, $2::int) g
     on conflict (login) do nothing`,
    [tag, n],
  );
  await lmsPool.query(
    `insert into devlms.memberships (context_id, login, roles) select 'course-101', $1 || g, $3 from generate_series(1, $2::int) g on conflict do nothing`,
    [tag, n, [ROLE.learner]],
  );
  const rows = await db.execute<{ id: number }>(sql`
    with people as (
      insert into users (platform_id, sub, name) select ${target.platformId}, ${tag} || '-sub-' || g, 'Student ' || g from generate_series(1, ${n}::int) g
      on conflict (platform_id, sub) do update set updated_at = now() returning id),
    work as (
      insert into submissions (task_id, course_id, student_id, attempt, char_count, content_hmac)
      select ${target.taskId}, ${target.courseId}, id, 1, 0, 'bulk-' || id from people returning id)
    insert into assessments (kind, platform_id, course_id, task_id, submission_id, model, score, max_score, review_status, decision_seq, reviewed_at, grade_sync_status)
    select 'manual', ${target.platformId}, ${target.courseId}, ${target.taskId}, id, 'manual', 70, 100, 'approved', 1, now(), 'pending' from work
    returning id`);
  return rows.rows.map((r) => Number(r.id));
}
