import { csvCell } from './cost-report.present.js';
import { formatDateTime, formatScore } from './present.js';
import { PROGRESS_LABELS, PROGRESS_STATUSES, type ProgressStatus, type StudentProgress } from '../models/tasks/task-progress.service.js';

/** View models of the instructor's task view: rows worded, counts as filter choices. */

/** `realtimeGradeNow`: the course's "grade now" goes through the real-time API, so any waiting work can take it. */
export function presentProgressRow(p: StudentProgress, realtimeGradeNow = false) {
  const score = (v: number | null) => (v == null || p.maxScore == null ? null : `${formatScore(v)} / ${formatScore(p.maxScore)}`);
  return {
    studentId: p.studentId,
    name: p.name,
    attempts: p.attempts,
    submissionId: p.submissionId,
    assessmentId: p.assessmentId,
    status: p.status,
    statusLabel: p.gradingNow ? 'Being graded now' : PROGRESS_LABELS[p.status],
    detail: [
      p.position ? `position ${p.position} in the queue` : null,
      p.etaLabel ? `graded ${p.etaLabel} (estimate)` : null,
      p.highPriority && p.status === 'queued' ? 'asked to be graded first' : null,
      p.gradingNow ? 'through the real-time API' : null,
      p.error ? `error: ${p.error}` : null,
    ].filter((x): x is string => x !== null),
    late: p.late,
    lastActivity: p.lastActivity ? formatDateTime(p.lastActivity) : null,
    lastActivityIso: p.lastActivity?.toISOString() ?? null,
    score: score(p.countingScore),
    latestScore: p.countingScore !== p.latestScore ? score(p.latestScore) : null,
    canRetry: p.canRetry,
    canGradeByHand: p.canGradeByHand,
    canGradeNow: p.canGradeNow || (realtimeGradeNow && p.waiting),
  };
}

export function statusChoices(counts: Record<ProgressStatus, number>, total: number) {
  return [{ value: '', label: `All (${total})` }, ...PROGRESS_STATUSES.map((s) => ({ value: s, label: `${PROGRESS_LABELS[s]} (${counts[s]})` }))];
}

const CSV_HEADER = ['student', 'attempts', 'latest_attempt', 'submitted_at_utc', 'late', 'status', 'score', 'max_score', 'latest_attempt_score', 'instructor_feedback', 'llm_comments'];

/** Scores and feedback, one row per student (the instructor's feedback and the model's comments already readable). */
export function progressCsv(rows: Array<StudentProgress & { instructorFeedback: string | null; llmComments: string | null }>): string {
  const lines = [CSV_HEADER.join(',')];
  for (const p of rows) {
    lines.push([
      p.name,
      p.attempts,
      p.attempt,
      p.submittedAt?.toISOString() ?? '',
      p.late ? 'yes' : 'no',
      PROGRESS_LABELS[p.status],
      p.countingScore,
      p.maxScore,
      p.latestScore,
      p.instructorFeedback,
      p.llmComments,
    ].map((v) => csvCell(v ?? null)).join(','));
  }
  return lines.join('\r\n') + '\r\n';
}
