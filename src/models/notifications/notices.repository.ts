import { sql, type SQL } from 'drizzle-orm';
import type { Db } from '../../db/db.js';

/**
 * The facts each event's notices are made of, read where the event happens: who gets told, and the values their
 * wording may use. Nothing here writes; `notices.service.ts` words and writes them.
 */

const num = (v: string | number | null): string => (v == null ? '' : String(Number(v)));

export interface FeedbackReadyFact {
  assessmentId: number;
  platformId: number;
  courseId: number;
  studentId: number;
  submissionId: number;
  courseTitle: string;
  taskTitle: string;
  attempt: number;
  score: string;
  maxScore: string;
  lmsUrl: string | null;
}

/** Released results among `which`, with the score the student may see (the override where there is one). */
async function feedbackReadyWhere(db: Db, which: SQL): Promise<FeedbackReadyFact[]> {
  const rows = await db.execute<{ id: number; platform_id: number; course_id: number; student_id: number; submission_id: number; course_title: string; task_title: string; attempt: number; score: string | null; max_score: string; lms_url: string | null }>(sql`
    select a.id, a.platform_id, a.course_id, s.student_id, s.id as submission_id, c.title as course_title, t.title as task_title, s.attempt,
           coalesce(case when a.review_status = 'overridden' then a.override_score end, a.score) as score, a.max_score, coalesce(t.lms_url, c.lms_url) as lms_url
    from assessments a join submissions s on s.id = a.submission_id join tasks t on t.id = a.task_id join courses c on c.id = a.course_id
    where ${which} and a.released_at is not null`);
  return rows.rows.map((r) => ({
    assessmentId: Number(r.id), platformId: Number(r.platform_id), courseId: Number(r.course_id), studentId: Number(r.student_id), submissionId: Number(r.submission_id),
    courseTitle: r.course_title, taskTitle: r.task_title, attempt: r.attempt, score: num(r.score), maxScore: num(r.max_score), lmsUrl: r.lms_url,
  }));
}

export const feedbackReadyOfAssessments = (db: Db, ids: number[]) => feedbackReadyWhere(db, sql`a.id = any(${sql.param(ids)}::bigint[])`);
export const feedbackReadyOfResults = (db: Db, customIds: string[]) => feedbackReadyWhere(db, sql`a.custom_id = any(${sql.param(customIds)}::text[])`);

export interface ItemFact {
  queueItemId: number;
  platformId: number;
  courseId: number;
  taskId: number;
  studentId: number;
  courseTitle: string;
  taskTitle: string;
  attempt: number;
  lastError: string | null;
  lmsUrl: string | null;
  /** Its place in the queue's order (priority, then age). */
  priorityRank: number;
  createdAt: Date;
}

const ITEM_COLUMNS = sql`q.id, q.platform_id, q.course_id, q.task_id, s.student_id, c.title as course_title, t.title as task_title, s.attempt, q.last_error, coalesce(t.lms_url, c.lms_url) as lms_url, q.priority_rank, q.created_at`;
type ItemDbRow = { id: number; platform_id: number; course_id: number; task_id: number; student_id: number; course_title: string; task_title: string; attempt: number; last_error: string | null; lms_url: string | null; priority_rank: number; created_at: Date };
const itemFact = (r: ItemDbRow): ItemFact => ({
  queueItemId: Number(r.id), platformId: Number(r.platform_id), courseId: Number(r.course_id), taskId: Number(r.task_id), studentId: Number(r.student_id),
  courseTitle: r.course_title, taskTitle: r.task_title, attempt: r.attempt, lastError: r.last_error, lmsUrl: r.lms_url,
  priorityRank: Number(r.priority_rank), createdAt: new Date(r.created_at),
});
const ITEM_JOINS = sql`join submissions s on s.id = q.submission_id join tasks t on t.id = q.task_id join courses c on c.id = q.course_id`;

export async function itemFacts(db: Db, queueItemIds: number[]): Promise<ItemFact[]> {
  if (!queueItemIds.length) return [];
  const rows = await db.execute<ItemDbRow>(sql`select ${ITEM_COLUMNS} from queue_items q ${ITEM_JOINS} where q.id = any(${sql.param(queueItemIds)}::bigint[])`);
  return rows.rows.map(itemFact);
}

/** The items of a batch's failed requests that are failed now (out of sends: dead letters). */
export async function deadLetterFacts(db: Db, batchId: number, customIds: string[]): Promise<ItemFact[]> {
  if (!customIds.length) return [];
  const rows = await db.execute<ItemDbRow>(sql`
    select ${ITEM_COLUMNS} from batch_requests br join queue_items q on q.id = br.queue_item_id ${ITEM_JOINS}
    where br.batch_id = ${batchId} and br.custom_id = any(${sql.param(customIds)}::text[]) and q.status = 'failed'`);
  return rows.rows.map(itemFact);
}

/** These items, where failed now (a real-time grading's dead letters). */
export async function deadItemFacts(db: Db, queueItemIds: number[]): Promise<ItemFact[]> {
  if (!queueItemIds.length) return [];
  const rows = await db.execute<ItemDbRow>(sql`select ${ITEM_COLUMNS} from queue_items q ${ITEM_JOINS} where q.id = any(${sql.param(queueItemIds)}::bigint[]) and q.status = 'failed'`);
  return rows.rows.map(itemFact);
}

/** The items a batch holds. */
export async function batchItemFacts(db: Db, batchId: number): Promise<ItemFact[]> {
  const rows = await db.execute<ItemDbRow>(sql`
    select ${ITEM_COLUMNS} from batch_requests br join queue_items q on q.id = br.queue_item_id ${ITEM_JOINS} where br.batch_id = ${batchId}`);
  return rows.rows.map(itemFact);
}

/** The active instructors of these courses. */
export async function instructorsOf(db: Db, courseIds: number[]): Promise<Array<{ courseId: number; userId: number }>> {
  if (!courseIds.length) return [];
  const rows = await db.execute<{ course_id: number; user_id: number }>(sql`
    select course_id, user_id from memberships where course_id = any(${sql.param([...new Set(courseIds)])}::bigint[]) and role = 'instructor' and active`);
  return rows.rows.map((r) => ({ courseId: Number(r.course_id), userId: Number(r.user_id) }));
}

export interface ReviewsWaitingFact {
  platformId: number;
  courseId: number;
  courseTitle: string;
  instructorId: number;
  waiting: number;
  lmsUrl: string | null;
}

/** Per course with results waiting for review (not released), each of its active instructors. */
export async function reviewsWaitingFacts(db: Db): Promise<ReviewsWaitingFact[]> {
  const rows = await db.execute<{ platform_id: number; course_id: number; title: string; user_id: number; n: number; lms_url: string | null }>(sql`
    with waiting as (
      select a.platform_id, a.course_id, count(*)::int as n from assessments a
      where a.review_status = 'pending_review' and a.released_at is null
      group by a.platform_id, a.course_id)
    select w.platform_id, w.course_id, c.title, m.user_id, w.n, c.lms_url
    from waiting w join courses c on c.id = w.course_id
    join memberships m on m.course_id = w.course_id and m.role = 'instructor' and m.active`);
  return rows.rows.map((r) => ({ platformId: Number(r.platform_id), courseId: Number(r.course_id), courseTitle: r.title, instructorId: Number(r.user_id), waiting: r.n, lmsUrl: r.lms_url }));
}

export interface OverdueFact extends ItemFact {
  etaToldAt: Date;
  priority: string;
  status: string;
}

/** Waiting items (queued or in a batch) whose student was told a time that has passed, oldest promise first. */
export async function overdueFacts(db: Db, now: Date, limit: number): Promise<OverdueFact[]> {
  const rows = await db.execute<ItemDbRow & { eta_told_at: Date; priority: string; status: string }>(sql`
    select ${ITEM_COLUMNS}, q.eta_told_at, q.priority, q.status from queue_items q ${ITEM_JOINS}
    where q.status in ('queued', 'selected', 'processing') and q.eta_told_at < ${now.toISOString()}::timestamptz
    order by q.eta_told_at limit ${limit}`);
  return rows.rows.map((r) => ({ ...itemFact(r), etaToldAt: new Date(r.eta_told_at), priority: r.priority, status: r.status }));
}

/** Records the feedback time a student was just told for each item. */
export async function recordEtasTold(db: Db, etas: Array<{ queueItemId: number; eta: Date }>): Promise<void> {
  if (!etas.length) return;
  await db.execute(sql`
    update queue_items q set eta_told_at = x.eta
    from unnest(${sql.param(etas.map((e) => e.queueItemId))}::bigint[], ${sql.param(etas.map((e) => e.eta.toISOString()))}::timestamptz[]) as x(id, eta)
    where q.id = x.id`);
}

/** Where the administrators' e-mail sends them: a course of the platform in the LMS (the latest launched). */
export async function platformLmsUrl(db: Db, platformId: number): Promise<string | null> {
  const rows = await db.execute<{ lms_url: string }>(sql`
    select lms_url from courses where platform_id = ${platformId} and lms_url is not null order by updated_at desc limit 1`);
  return rows.rows[0]?.lms_url ?? null;
}

/** Names for a notice about an administrator's action: the course's title (if any) and the person's name. */
export async function actionFacts(db: Db, courseId: number | null, userId: number): Promise<{ courseTitle: string | null; actorName: string | null }> {
  const rows = await db.execute<{ course_title: string | null; actor_name: string | null }>(sql`
    select (select title from courses where id = ${courseId}) as course_title, (select coalesce(name, nullif(trim(coalesce(given_name, '') || ' ' || coalesce(family_name, '')), '')) from users where id = ${userId}) as actor_name`);
  return { courseTitle: rows.rows[0]?.course_title ?? null, actorName: rows.rows[0]?.actor_name ?? null };
}
