import { z } from 'zod';
import type { Db } from '../../db/db.js';
import { Conflict, NotFound } from '../../errors.js';
import { releasedAssessmentOf } from '../assessments/assessments.repository.js';
import { insertRating, type FeedbackRatingRow } from './ratings.repository.js';

/** How a student rates the timing of their feedback: 1 (far too slow) to 5 (in good time), with an optional comment. */
export const ratingSchema = z.object({
  rating: z.coerce.number({ error: 'Choose a rating from 1 to 5.' }).int('Choose a rating from 1 to 5.').min(1, 'Choose a rating from 1 to 5.').max(5, 'Choose a rating from 1 to 5.'),
  comment: z.string().trim().max(1000, 'The comment has at most 1,000 characters.').optional().transform((v) => v || null),
});
export type RatingInput = z.output<typeof ratingSchema>;

/**
 * A student rates how soon the feedback on one of their own released results came (seed §11: satisfaction with
 * feedback timing). Once per attempt; anything not released to them is "not found". Run in a transaction.
 */
export async function rateFeedbackTiming(db: Db, who: { platformId: number; courseId: number; studentId: number }, submissionId: number, input: RatingInput): Promise<FeedbackRatingRow> {
  const released = await releasedAssessmentOf(db, { courseId: who.courseId, studentId: who.studentId }, submissionId);
  if (!released) throw NotFound('The feedback');
  const row = await insertRating(db, { platformId: who.platformId, courseId: who.courseId, submissionId, studentId: who.studentId, rating: input.rating, comment: input.comment });
  if (!row) throw Conflict('You have already rated this feedback.');
  return row;
}
