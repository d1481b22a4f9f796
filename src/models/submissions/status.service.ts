import type { Db } from '../../db/db.js';
import { describeEta, etaForBatched, etaForQueued, observedThroughput, type Throughput } from '../queue/eta.js';
import { releasedToStudent } from '../assessments/release.js';
import { queuePosition } from '../queue/queue-stats.repository.js';
import { studentStatusRows, type StudentStatusRow } from './submissions.repository.js';

/**
 * What a student sees of their own submissions: where each one is (queued, in a batch, being graded, graded,
 * failed, waiting to be graded by hand), its place in the queue, an estimate of when it will be graded, and whether
 * feedback has been released. The task page and the JSON API for the LMS mobile apps (`GET /api/my/submissions/`)
 * read the same list.
 */

export type StudentStatus = 'queued' | 'in_batch' | 'processing' | 'completed' | 'failed' | 'removed' | 'manual';

export const STATUS_LABELS: Record<StudentStatus, string> = {
  queued: 'Queued',
  in_batch: 'In a batch',
  processing: 'Being graded',
  completed: 'Graded',
  failed: 'Could not be graded',
  removed: 'Not graded',
  manual: 'With your instructor',
};

/** States that change no more without a person acting: the page stops polling. */
export const TERMINAL: ReadonlySet<StudentStatus> = new Set(['completed', 'failed', 'removed', 'manual']);

export interface StudentSubmissionStatus {
  submissionId: number;
  taskId: number;
  taskTitle: string;
  attempt: number;
  submittedAt: Date;
  /** Handed in after the task's due date (taken, as the task allows late work). */
  late: boolean;
  status: StudentStatus;
  statusLabel: string;
  /** 1 = next to be batched; only while queued. */
  position: number | null;
  eta: Date | null;
  etaLabel: string | null;
  /** The batch it is in (while in a batch or being graded). */
  batchId: number | null;
  detail: string | null;
  feedbackReleased: boolean;
  /** The score the student may see (released only), on the rubric's scale. */
  score: { value: number; max: number } | null;
}

function mapStatus(r: StudentStatusRow): StudentStatus {
  if (r.kind === 'manual') return r.review_status === 'approved' || r.review_status === 'overridden' ? 'completed' : 'manual';
  switch (r.q_status) {
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

const DETAILS: Partial<Record<StudentStatus, string>> = {
  failed: 'The grading service could not grade this attempt. Your instructor can see it and will follow up.',
  removed: 'An administrator took this attempt out of the grading queue. Ask your instructor.',
  manual: 'Your instructor grades this attempt by hand; no LLM sees it.',
};

/** The student's submissions of a task (or of the whole course), newest first, with live status. */
export async function studentSubmissionStatuses(
  db: Db,
  of: { taskId: number } | { courseId: number },
  studentId: number,
  defaultBatchSize: number,
  now = new Date(),
): Promise<StudentSubmissionStatus[]> {
  const rows = await studentStatusRows(db, of, studentId);
  let throughput: Throughput | undefined;
  const out: StudentSubmissionStatus[] = [];
  for (const r of rows) {
    const status = mapStatus(r);
    let position: number | null = null;
    let eta: Date | null = null;
    if (status === 'queued' && r.queue_item_id != null) {
      position = await queuePosition(db, Number(r.platform_id), Number(r.queue_item_id), r.priority_rank ?? 1, new Date(r.q_created_at!));
      throughput ??= await observedThroughput(db, Number(r.platform_id), defaultBatchSize);
      const due = etaForQueued(position, throughput, now);
      eta = r.not_before && new Date(r.not_before) > due ? new Date(new Date(r.not_before).getTime() + throughput.turnaroundMs) : due;
    } else if (status === 'processing' && r.batch_id == null) {
      // Graded now through the real-time API (models/escalation/): no batch to wait for, minutes rather than hours.
      eta = null;
    } else if ((status === 'in_batch' || status === 'processing') && r.platform_id != null) {
      throughput ??= await observedThroughput(db, Number(r.platform_id), defaultBatchSize);
      eta = etaForBatched(r.batch_submitted_at ? new Date(r.batch_submitted_at) : null, throughput, now);
    }
    const released =
      r.has_assessment && r.review_status !== null &&
      releasedToStudent({ reviewStatus: r.review_status, needsReview: r.needs_review ?? true, flagCount: Number(r.flag_count ?? 0), releasePolicy: r.release_policy, confidence: r.computed_confidence, minConfidence: r.auto_release_min_confidence });
    let detail = DETAILS[status] ?? null;
    if (status === 'completed' && !released) detail = 'Your instructor reviews the feedback before you see it.';
    if (status === 'processing' && r.batch_id == null) detail = 'Being graded now, through the real-time API (usually within minutes).';
    const finalScore = r.review_status === 'overridden' ? r.override_score : r.score;
    const submittedAt = new Date(r.submitted_at);
    out.push({
      submissionId: Number(r.submission_id),
      taskId: Number(r.task_id),
      taskTitle: r.task_title,
      attempt: r.attempt,
      submittedAt,
      late: r.due_at != null && submittedAt > new Date(r.due_at),
      status,
      statusLabel: STATUS_LABELS[status],
      position,
      eta,
      etaLabel: eta ? describeEta(eta, now) : null,
      batchId: (status === 'in_batch' || status === 'processing') && r.batch_id != null ? Number(r.batch_id) : null,
      detail,
      feedbackReleased: Boolean(released),
      score: released && finalScore != null && r.max_score != null ? { value: Number(finalScore), max: Number(r.max_score) } : null,
    });
  }
  return out;
}
