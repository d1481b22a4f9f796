import { sql } from 'drizzle-orm';
import type { Db } from '../../db/db.js';

/** A course's retention when nobody configured its privacy (the default of `course_privacy.retention_days`). */
export const DEFAULT_RETENTION_DAYS = 30;

/**
 * When a submission's grading ended: its last decision, assessment or queue change, or its submission. A
 * submission still waiting (queued, in a batch) or whose assessment awaits review is not finished, and keeps its
 * content whatever the policy says: an instructor must be able to read what they decide on.
 */
const FINISHED_AT = sql`greatest(
    s.created_at,
    (select max(coalesce(a.reviewed_at, a.created_at)) from assessments a where a.submission_id = s.id),
    (select max(q.updated_at) from queue_items q where q.submission_id = s.id))`;

/**
 * A course's retention: its own setting (or, never set, its platform's default), never longer than the longest its
 * platform allows — a limit an administrator sets applies to every course at once, whatever the course says.
 */
const COURSE_DAYS = sql`(case when p.course_id is null then (case when pp.platform_id is null then ${DEFAULT_RETENTION_DAYS} else pp.default_retention_days end) else p.retention_days end)`;
const RETENTION_DAYS = sql`(case when pp.max_retention_days is null then ${COURSE_DAYS} else least(coalesce(${COURSE_DAYS}, pp.max_retention_days), pp.max_retention_days) end)`;

/** What stands where a reviewer's text was erased. */
export const REMOVED_TEXT = '(removed under the course\'s retention policy)';

export interface ExpiredSubmission {
  id: number;
  courseId: number;
  platformId: number;
}

/**
 * Submissions whose content is past their course's retention, a chunk at a time, locked for the caller's
 * transaction; rows another run holds are skipped (two workers never wait on each other, and never both erase).
 */
export async function lockExpiredSubmissions(db: Db, limit: number, now: Date): Promise<ExpiredSubmission[]> {
  const rows = await db.execute<{ id: number; course_id: number; platform_id: number }>(sql`
    select s.id, s.course_id, c.platform_id
    from submissions s
    join courses c on c.id = s.course_id
    left join course_privacy p on p.course_id = s.course_id
    left join platform_privacy pp on pp.platform_id = c.platform_id
    where s.purged_at is null
      and ${RETENTION_DAYS} is not null
      and not exists (select 1 from queue_items q where q.submission_id = s.id and q.status in ('queued', 'selected', 'processing'))
      and not exists (select 1 from assessments a where a.submission_id = s.id and a.review_status = 'pending_review')
      and ${FINISHED_AT} < ${now.toISOString()}::timestamptz - make_interval(days => ${RETENTION_DAYS})
    order by s.id
    limit ${limit}
    for update of s skip locked`);
  return rows.rows.map((r) => ({ id: Number(r.id), courseId: Number(r.course_id), platformId: Number(r.platform_id) }));
}

/** Erases the work itself (the text and its file name); the row stays, so grades keep their history. */
export async function eraseSubmissionContent(db: Db, ids: number[], now: Date): Promise<number> {
  if (!ids.length) return 0;
  const rows = await db.execute(sql`
    update submissions set content = null, original_filename = null, purged_at = ${now.toISOString()}::timestamptz
    where id = any(${sql.param(ids)}::bigint[]) and purged_at is null`);
  return rows.rowCount ?? 0;
}

/**
 * Erases what was written about the work: the model's feedback, reasoning and raw output, and the reviewers'
 * texts (override feedback and reason, review note). Kept: the scores (total and per criterion), the confidence,
 * the decisions and who made them.
 */
export async function eraseAssessmentTexts(db: Db, submissionIds: number[]): Promise<number> {
  if (!submissionIds.length) return 0;
  const rows = await db.execute(sql`
    update assessments set
      result = case when result is null then null else jsonb_build_object(
        'criteria', coalesce((select jsonb_object_agg(k, jsonb_build_object('score', v -> 'score')) from jsonb_each(result -> 'criteria') as e(k, v)), '{}'::jsonb),
        'total_score', result -> 'total_score',
        'confidence', result -> 'confidence',
        'content_removed', true) end,
      -- An override keeps a reason (a check says so): the words go, a stub says why.
      raw_output = null, override_feedback = null, review_note = null,
      override_reason = case when override_reason is null then null else ${REMOVED_TEXT} end, updated_at = now()
    where submission_id = any(${sql.param(submissionIds)}::bigint[])`);
  return rows.rowCount ?? 0;
}

/** Notes on queue items can quote the reviewer ("Rejected by the instructor: …"): they go with the content. */
export async function eraseQueueNotes(db: Db, submissionIds: number[]): Promise<void> {
  if (!submissionIds.length) return;
  await db.execute(sql`update queue_items set admin_notes = '' where submission_id = any(${sql.param(submissionIds)}::bigint[]) and admin_notes <> ''`);
}
