import type { Db } from '../../db/db.js';
import { releasedToStudent } from '../assessments/release.js';
import { describeEta, etaForBatched, etaForQueued, observedThroughput, type Throughput } from '../queue/eta.js';
import { queuePosition } from '../queue/queue-stats.repository.js';
import type { TaskRow } from './tasks.repository.js';
import { taskProgressRows, type TaskProgressRow } from './task-progress.repository.js';

/**
 * An instructor's view of one task: every student with where their latest attempt stands, the score that counts
 * (the last or the best decided attempt, as the task says) and what can be done about it.
 */

export const PROGRESS_STATUSES = ['not_submitted', 'queued', 'in_batch', 'awaiting_review', 'released', 'failed', 'manual', 'removed'] as const;
export type ProgressStatus = (typeof PROGRESS_STATUSES)[number];

export const PROGRESS_LABELS: Record<ProgressStatus, string> = {
  not_submitted: 'Not submitted',
  queued: 'Queued',
  in_batch: 'In a batch',
  awaiting_review: 'Graded, awaiting your review',
  released: 'Released',
  failed: 'Failed',
  manual: 'To grade by hand',
  removed: 'Taken out of the queue',
};

export interface StudentProgress {
  studentId: number;
  name: string;
  attempts: number;
  submissionId: number | null;
  attempt: number | null;
  submittedAt: Date | null;
  late: boolean;
  status: ProgressStatus;
  /** While queued: place in the platform's queue and the estimate; while in a batch: the estimate. */
  position: number | null;
  eta: Date | null;
  etaLabel: string | null;
  highPriority: boolean;
  /** Why grading failed (the last error), for a failed item. */
  error: string | null;
  assessmentId: number | null;
  /** The latest attempt's decided score (null until decided), and the score that counts for the task. */
  latestScore: number | null;
  countingScore: number | null;
  maxScore: number | null;
  lastActivity: Date | null;
  /** What the instructor can do from here. */
  canRetry: boolean;
  canGradeByHand: boolean;
  canGradeNow: boolean;
  /** Waiting in the queue, in no batch: what a real-time "grade now" can take, whatever its priority. */
  waiting: boolean;
  /** Being graded now through the real-time API (models/escalation/), in no batch. */
  gradingNow: boolean;
  /** Kept for the CSV: the model's result and the instructor's feedback (encrypted) of the latest attempt. */
  result: Record<string, unknown> | null;
  overrideFeedback: string | null;
  queueItemId: number | null;
}

function statusOf(r: TaskProgressRow, task: TaskRow): ProgressStatus {
  if (r.submission_id == null) return 'not_submitted';
  // An assessment newer than the latest queue item decides (a rejection back to the queue made a newer item).
  const assessmentCurrent = r.assessment_id != null && (r.kind === 'manual' || r.queue_item_id == null || Number(r.a_queue_item_id) === Number(r.queue_item_id));
  if (assessmentCurrent) {
    if (r.kind === 'manual' && r.review_status === 'pending_review') return 'manual';
    if (r.review_status === 'rejected') return r.rejected_to === 'manual' ? 'manual' : 'queued';
    if (r.review_status === 'approved' || r.review_status === 'overridden') return 'released';
    const released = releasedToStudent({ reviewStatus: 'pending_review', needsReview: r.needs_review ?? true, flagCount: Number(r.flag_count ?? 0), releasePolicy: task.releasePolicy, confidence: r.computed_confidence, minConfidence: task.autoReleaseMinConfidence });
    return released ? 'released' : 'awaiting_review';
  }
  switch (r.q_status) {
    case 'selected':
    case 'processing':
      return 'in_batch';
    case 'failed':
      return 'failed';
    case 'skipped':
      return 'removed';
    default:
      return 'queued';
  }
}

const finalScoreOf = (r: TaskProgressRow): number | null =>
  r.review_status === 'overridden' ? r.override_score : r.review_status === 'approved' ? r.score : null;

export interface ProgressFilter {
  status?: ProgressStatus;
  /** Part of a name, any case. */
  q?: string;
}

/** Every student of the task with their progress, filtered; counts per status are of the whole list. */
export async function taskProgress(db: Db, platformId: number, task: TaskRow, filter: ProgressFilter, defaultBatchSize: number, now = new Date()): Promise<{ rows: StudentProgress[]; counts: Record<ProgressStatus, number>; total: number }> {
  const raw = await taskProgressRows(db, task.courseId, task.id);
  let throughput: Throughput | undefined;
  const all: StudentProgress[] = [];
  for (const r of raw) {
    const status = statusOf(r, task);
    let position: number | null = null;
    let eta: Date | null = null;
    if (status === 'queued' && r.q_status === 'queued' && r.queue_item_id != null) {
      position = await queuePosition(db, platformId, Number(r.queue_item_id), r.priority_rank ?? 1, new Date(r.q_created_at!));
      throughput ??= await observedThroughput(db, platformId, defaultBatchSize);
      eta = etaForQueued(position, throughput, now);
    } else if (status === 'in_batch' && r.batch_id != null) {
      throughput ??= await observedThroughput(db, platformId, defaultBatchSize);
      eta = etaForBatched(r.batch_submitted_at ? new Date(r.batch_submitted_at) : null, throughput, now);
    }
    const latest = finalScoreOf(r);
    all.push({
      studentId: Number(r.student_id),
      name: r.name,
      attempts: r.attempts,
      submissionId: r.submission_id == null ? null : Number(r.submission_id),
      attempt: r.attempt,
      submittedAt: r.submitted_at ? new Date(r.submitted_at) : null,
      late: Boolean(task.dueAt && r.submitted_at && new Date(r.submitted_at) > task.dueAt),
      status,
      position,
      eta,
      etaLabel: eta ? describeEta(eta, now) : null,
      highPriority: r.priority === 'high',
      error: status === 'failed' ? r.last_error : null,
      assessmentId: r.assessment_id == null ? null : Number(r.assessment_id),
      latestScore: latest == null ? null : Number(latest),
      countingScore: task.attemptPolicy === 'best' ? (r.best_score == null ? null : Number(r.best_score)) : latest == null ? null : Number(latest),
      maxScore: r.max_score == null ? null : Number(r.max_score),
      lastActivity: r.last_activity ? new Date(r.last_activity) : null,
      canRetry: status === 'failed' || status === 'removed',
      canGradeByHand: status === 'failed' || status === 'removed',
      canGradeNow: status === 'queued' && r.q_status === 'queued' && r.priority !== 'high',
      waiting: status === 'queued' && r.q_status === 'queued' && r.batch_id == null,
      gradingNow: status === 'in_batch' && r.q_status === 'processing' && r.batch_id == null,
      result: r.result,
      overrideFeedback: r.override_feedback,
      queueItemId: r.queue_item_id == null ? null : Number(r.queue_item_id),
    });
  }
  const counts = Object.fromEntries(PROGRESS_STATUSES.map((s) => [s, 0])) as Record<ProgressStatus, number>;
  for (const p of all) counts[p.status] += 1;
  const needle = filter.q?.trim().toLowerCase();
  const rows = all.filter((p) => (!filter.status || p.status === filter.status) && (!needle || p.name.toLowerCase().includes(needle)));
  return { rows, counts, total: all.length };
}
