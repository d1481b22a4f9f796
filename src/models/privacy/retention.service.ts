import type { RootDb } from '../../db/db.js';
import { recordAudit } from '../audit/audit.repository.js';
import { eraseAssessmentTexts, eraseQueueNotes, eraseSubmissionContent, lockExpiredSubmissions, REMOVED_TEXT, type ExpiredSubmission } from './retention.repository.js';
import { eraseAppealTexts } from '../appeals/appeals.repository.js';
import { eraseRatingComments } from '../metrics/ratings.repository.js';

export interface RetentionRun {
  submissions: number;
  assessments: number;
  /** Per course: what was removed there (the audit log has the same, one entry per course and chunk). */
  courses: Map<number, { submissions: number; assessments: number }>;
}

/**
 * Applies every course's retention policy: the content of submissions graded more than `retention_days` ago is
 * erased, with what was written about it (see the repository), chunk by chunk, each chunk its own short
 * transaction. A run stopped half-way leaves whole chunks done and the rest for the next run; a submission is
 * erased once (its `purged_at` set); two runs at once take different rows. Scores, decisions and the audit trail
 * stay: the audit gets a count per course, never content.
 */
export async function applyRetention(db: RootDb, options: { now?: Date; chunkSize?: number; maxChunks?: number } = {}): Promise<RetentionRun> {
  const now = options.now ?? new Date();
  const chunkSize = options.chunkSize ?? 200;
  const run: RetentionRun = { submissions: 0, assessments: 0, courses: new Map() };
  for (let chunk = 0; chunk < (options.maxChunks ?? Number.POSITIVE_INFINITY); chunk++) {
    const done = await db.transaction(async (tx) => {
      const expired = await lockExpiredSubmissions(tx, chunkSize, now);
      for (const [courseId, rows] of byCourse(expired)) {
        const ids = rows.map((r) => r.id);
        const submissions = await eraseSubmissionContent(tx, ids, now);
        const assessments = await eraseAssessmentTexts(tx, ids);
        await eraseQueueNotes(tx, ids);
        await eraseAppealTexts(tx, ids, REMOVED_TEXT);
        await eraseRatingComments(tx, ids);
        await recordAudit(tx, {
          platformId: rows[0]!.platformId,
          courseId,
          actorKind: 'system',
          action: 'retention.content_removed',
          entityType: 'course',
          entityId: courseId,
          details: { submissions, assessments },
        });
        const total = run.courses.get(courseId) ?? { submissions: 0, assessments: 0 };
        run.courses.set(courseId, { submissions: total.submissions + submissions, assessments: total.assessments + assessments });
        run.submissions += submissions;
        run.assessments += assessments;
      }
      return expired.length < chunkSize;
    });
    if (done) break;
  }
  return run;
}

function byCourse(rows: ExpiredSubmission[]): Map<number, ExpiredSubmission[]> {
  const out = new Map<number, ExpiredSubmission[]>();
  for (const r of rows) out.set(r.courseId, [...(out.get(r.courseId) ?? []), r]);
  return out;
}
