import type { Db } from '../../db/db.js';
import { recordAudit } from '../audit/audit.repository.js';
import type { Gradebook } from '../grades/gradebook.js';
import { findTaskColumn, setTaskMaxScore } from './task-column.repository.js';

/** The largest maximum a task may have (the deep-linking form's bound): a column beyond it is not followed. */
const MAX_SCORE_LIMIT = 1000;

export type ColumnMaximumOutcome = { kind: 'no_column' } | { kind: 'unchanged'; maxScore: number } | { kind: 'changed'; from: number; to: number } | { kind: 'refused'; scoreMaximum: number };

/**
 * Makes the task's maximum the one of its gradebook column in the LMS (AGS), read when the task is first launched
 * and whenever an instructor opens it: an activity graded out of 50 in Moodle is out of 50 here too, so students
 * read the score on the scale their gradebook shows (issue 15). Assessments keep the scale their prompt graded on;
 * what they show is converted (gradebookScale). Errors of the LMS are the caller's to log: nothing changes.
 */
export async function followColumnMaximum(db: Db, gradebook: Pick<Gradebook, 'readLineItem'>, taskId: number): Promise<ColumnMaximumOutcome> {
  const column = await findTaskColumn(db, taskId);
  if (!column?.lineItemUrl) return { kind: 'no_column' };
  const item = await gradebook.readLineItem({ issuer: column.issuer, clientId: column.clientId }, column.lineItemUrl);
  const to = Math.round(item.scoreMaximum * 100) / 100;
  if (!(to > 0 && to <= MAX_SCORE_LIMIT)) return { kind: 'refused', scoreMaximum: item.scoreMaximum };
  if (!(await setTaskMaxScore(db, taskId, to))) return { kind: 'unchanged', maxScore: to };
  await recordAudit(db, {
    platformId: column.platformId,
    courseId: column.courseId,
    actorKind: 'system',
    action: 'task.max_score_from_lms',
    entityType: 'task',
    entityId: taskId,
    details: { from: column.maxScore, to },
  });
  return { kind: 'changed', from: column.maxScore, to };
}

/** A score on the scale of its task's gradebook column: 42.5 of 100 is 21.25 of 50. */
export function gradebookScale(score: number, gradedOutOf: number, columnMax: number): number {
  if (gradedOutOf === columnMax || gradedOutOf <= 0) return score;
  return Math.round(((score * columnMax) / gradedOutOf) * 100) / 100;
}
