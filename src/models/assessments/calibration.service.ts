import type { Db } from '../../db/db.js';
import { reliabilityTable, suggestThreshold, type ReliabilityRow, type ThresholdSuggestion } from '../../analytics/calibration.js';
import { listTasksForCourse } from '../tasks/tasks.repository.js';
import type { ReleasePolicy } from '../tasks/tasks.table.js';
import { listConfidenceOutcomes, type ConfidenceOutcomeRow } from './review.repository.js';

/**
 * Whether the computed confidence means what it says, for the Agreement page: per prompt version, how often results
 * of each confidence were approved as they were; per task, the review threshold its latest graded prompt version's
 * decisions support (src/analytics/calibration.ts), beside the task's own setting — the auto-release threshold of
 * the task settings (results at or above it released at once, the rest reviewed first).
 */

export interface VersionReliability {
  promptVersionId: number;
  label: string;
  decided: number;
  rows: ReliabilityRow[];
}

export interface TaskThreshold {
  taskId: number;
  taskTitle: string;
  /** The prompt version whose decisions the suggestion reads: the task's latest one with decisions. */
  promptVersion: number;
  suggestion: ThresholdSuggestion;
  /** The task's setting now. */
  releasePolicy: ReleasePolicy;
  autoReleaseMinConfidence: number | null;
}

export interface CalibrationReport {
  byVersion: VersionReliability[];
  thresholds: TaskThreshold[];
  /** The largest share of changed results accepted above a threshold (0–1). */
  target: number;
}

export async function calibrationReport(db: Db, courseId: number, filter: { taskId?: number; promptVersionId?: number }, target: number): Promise<CalibrationReport> {
  const [rows, tasks] = await Promise.all([listConfidenceOutcomes(db, courseId, filter), listTasksForCourse(db, courseId)]);
  const versions = new Map<number, ConfidenceOutcomeRow[]>();
  for (const r of rows) versions.set(r.promptVersionId, [...(versions.get(r.promptVersionId) ?? []), r]);
  const byVersion = [...versions.entries()].map(([id, rs]) => ({ promptVersionId: id, label: `${rs[0]!.taskTitle} — prompt v${rs[0]!.promptVersion}`, decided: rs.length, rows: reliabilityTable(rs) }));
  const thresholds: TaskThreshold[] = [];
  for (const task of tasks) {
    const mine = rows.filter((r) => r.taskId === task.id);
    if (!mine.length) continue;
    const latest = Math.max(...mine.map((r) => r.promptVersion));
    const outcomes = mine.filter((r) => r.promptVersion === latest);
    thresholds.push({
      taskId: task.id,
      taskTitle: task.title,
      promptVersion: latest,
      suggestion: suggestThreshold(outcomes, target),
      releasePolicy: task.releasePolicy,
      autoReleaseMinConfidence: task.autoReleaseMinConfidence,
    });
  }
  return { byVersion, thresholds, target };
}
