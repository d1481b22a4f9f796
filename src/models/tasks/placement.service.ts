import type { Db } from '../../db/db.js';
import { NotFound } from '../../errors.js';
import { recordAudit } from '../audit/audit.repository.js';
import { createTask, lockTaskInCourse, markPlaced, type TaskRow } from './tasks.repository.js';
import { newTaskSettings, type PlacementInput } from './tasks.schema.js';

export interface Placer {
  platformId: number;
  courseId: number;
  userId: number;
  /** The course's line item container from the deep-linking launch, if the LMS offers grade services. */
  lineItemsUrl: string | null;
  /** The registration (client) of that launch: the one whose token may use the container. */
  registrationId: number;
}

/** A task that already has its link and gradebook column in the LMS: placing it again would split its grades. */
export class AlreadyPlaced extends Error {
  constructor(readonly task: TaskRow) {
    super(`“${task.title}” is already in the course with its gradebook column. Each task is placed once; choose “A new task” to add another.`);
    this.name = 'AlreadyPlaced';
  }
}

/** Placed by a deep-linking answer, or linked in the LMS already (by a launch, or before placements were recorded). */
export function isPlaced(task: Pick<TaskRow, 'placedAt' | 'resourceLinkId' | 'lineItemUrl'>): boolean {
  return Boolean(task.placedAt || task.resourceLinkId || task.lineItemUrl);
}

/**
 * The task a deep-linking answer places in the LMS: a new one, or an existing task of the course not placed yet.
 * The existing task is locked while it is checked, so two instructors placing it at once cannot both pass.
 * Run in the caller's transaction.
 */
export async function placeTask(db: Db, who: Placer, input: PlacementInput): Promise<TaskRow> {
  if (input.taskId === 'new') {
    // The course's line item container, so grade passback finds (by resource id) the column the LMS makes now.
    const created = await createTask(db, { courseId: who.courseId, resourceLinkId: null, title: input.title!, maxScore: input.maxScore ?? 10, ...newTaskSettings(input), createdBy: who.userId, lineItemsUrl: who.lineItemsUrl, registrationId: who.lineItemsUrl ? who.registrationId : null, placedAt: new Date() });
    await recordAudit(db, { platformId: who.platformId, courseId: who.courseId, actorId: who.userId, actorKind: 'user', action: 'task.created', entityType: 'task', entityId: created.id, details: { via: 'deep_linking' } });
    return created;
  }
  const existing = await lockTaskInCourse(db, who.courseId, input.taskId);
  if (!existing) throw NotFound('The task');
  if (isPlaced(existing)) throw new AlreadyPlaced(existing);
  if (existing.lineItemsUrl) await markPlaced(db, existing.id, existing.lineItemsUrl, existing.registrationId);
  else await markPlaced(db, existing.id, who.lineItemsUrl, who.lineItemsUrl ? who.registrationId : null);
  return existing;
}
