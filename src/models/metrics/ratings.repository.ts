import { sql } from 'drizzle-orm';
import type { Db } from '../../db/db.js';
import { feedbackRatings } from './metrics.table.js';

export type FeedbackRatingRow = typeof feedbackRatings.$inferSelect;

export async function findRatingOfSubmission(db: Db, submissionId: number): Promise<FeedbackRatingRow | undefined> {
  const [row] = await db.select().from(feedbackRatings).where(sql`${feedbackRatings.submissionId} = ${submissionId}`);
  return row;
}

/** A new rating; undefined when the attempt was rated already (once per attempt, by a unique key). */
export async function insertRating(db: Db, r: Pick<FeedbackRatingRow, 'platformId' | 'courseId' | 'submissionId' | 'studentId' | 'rating' | 'comment'>): Promise<FeedbackRatingRow | undefined> {
  const [row] = await db.insert(feedbackRatings).values(r).onConflictDoNothing({ target: feedbackRatings.submissionId }).returning();
  return row;
}

/** Retention and erasure: the comment goes with the work; the rating stays (it is the KPI). */
export async function eraseRatingComments(db: Db, submissionIds: number[]): Promise<void> {
  if (!submissionIds.length) return;
  await db.execute(sql`update feedback_ratings set comment = null where submission_id = any(${sql.param(submissionIds)}::bigint[]) and comment is not null`);
}

/** The platform's ratings over a period: how many and their mean. */
export async function ratingSummary(db: Db, platformId: number, from: Date, to: Date): Promise<{ n: number; mean: number | null }> {
  const rows = await db.execute<{ n: number; mean: number | null }>(sql`
    select count(*)::int as n, avg(rating)::float8 as mean from feedback_ratings where platform_id = ${platformId} and created_at >= ${from.toISOString()} and created_at < ${to.toISOString()}`);
  return rows.rows[0] ?? { n: 0, mean: null };
}
