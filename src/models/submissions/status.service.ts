import type { Db } from '../../db/db.js';
import { describeEta, etaForBatched, etaForQueued, observedThroughput, type Throughput } from '../queue/eta.js';
import { releasedToStudent } from '../assessments/release.js';
import { queuePosition } from '../queue/queue-stats.repository.js';
import { studentStatusRows } from './submissions.repository.js';

/**
 * What a student sees of their own submissions: where each one is (queued, in a batch, being graded, graded,
 * failed), its place in the queue, an estimate of when it will be graded, and whether feedback has been released.
 */

export type StudentStatus = 'queued' | 'in_batch' | 'processing' | 'completed' | 'failed' | 'removed';

export const STATUS_LABELS: Record<StudentStatus, string> = {
  queued: 'Queued',
  in_batch: 'In a batch',
  processing: 'Being graded',
  completed: 'Graded',
  failed: 'Could not be graded',
  removed: 'Not graded',
};

/** States that change no more without a person acting: the page stops polling. */
export const TERMINAL: ReadonlySet<StudentStatus> = new Set(['completed', 'failed', 'removed']);

export interface StudentSubmissionStatus {
  submissionId: number;
  attempt: number;
  submittedAt: Date;
  status: StudentStatus;
  statusLabel: string;
  /** 1 = next to be batched; only while queued. */
  position: number | null;
  eta: Date | null;
  etaLabel: string | null;
  detail: string | null;
  feedbackReleased: boolean;
}

function mapStatus(q: string | null): StudentStatus {
  switch (q) {
    case 'queued':
      return 'queued';
    case 'selected':
      return 'in_batch';
    case 'processing':
      return 'processing';
    case 'completed':
      return 'completed';
    case 'skipped':
      return 'removed';
    case 'failed':
      // Final: a send that failed with attempts left goes straight back to `queued` (the engine's rule).
      return 'failed';
    default:
      return 'queued';
  }
}

/** The student's submissions of a task, newest attempt first, with live status. */
export async function studentSubmissionStatuses(db: Db, taskId: number, studentId: number, defaultBatchSize: number, now = new Date()): Promise<StudentSubmissionStatus[]> {
  const rows = await studentStatusRows(db, taskId, studentId);
  let throughput: Throughput | undefined;
  const out: StudentSubmissionStatus[] = [];
  for (const r of rows) {
    const status = mapStatus(r.q_status);
    let position: number | null = null;
    let eta: Date | null = null;
    let detail: string | null = null;
    if (status === 'queued' && r.queue_item_id != null) {
      position = await queuePosition(db, Number(r.platform_id), Number(r.queue_item_id), r.priority_rank ?? 1, new Date(r.q_created_at!));
      throughput ??= await observedThroughput(db, Number(r.platform_id), defaultBatchSize);
      const due = etaForQueued(position, throughput, now);
      eta = r.not_before && new Date(r.not_before) > due ? new Date(new Date(r.not_before).getTime() + throughput.turnaroundMs) : due;
    } else if ((status === 'in_batch' || status === 'processing') && r.platform_id != null) {
      throughput ??= await observedThroughput(db, Number(r.platform_id), defaultBatchSize);
      eta = etaForBatched(r.batch_submitted_at ? new Date(r.batch_submitted_at) : null, throughput, now);
    }
    if (status === 'failed') detail = 'The grading service could not grade this attempt. Your instructor can see it and will follow up.';
    if (status === 'removed') detail = 'An administrator took this attempt out of the grading queue. Ask your instructor.';
    const released =
      r.has_assessment && r.review_status !== null &&
      releasedToStudent({ reviewStatus: r.review_status, needsReview: r.needs_review ?? true, flagCount: Number(r.flag_count ?? 0), releasePolicy: r.release_policy });
    if (status === 'completed' && !released) detail = 'Your instructor reviews the feedback before you see it.';
    out.push({
      submissionId: Number(r.submission_id),
      attempt: r.attempt,
      submittedAt: new Date(r.submitted_at),
      status,
      statusLabel: STATUS_LABELS[status],
      position,
      eta,
      etaLabel: eta ? describeEta(eta, now) : null,
      detail,
      feedbackReleased: Boolean(released),
    });
  }
  return out;
}
