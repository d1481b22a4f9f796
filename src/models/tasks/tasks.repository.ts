import { and, asc, eq, isNull, sql } from 'drizzle-orm';
import type { Db } from '../../db/db.js';
import { tasks, type ReleasePolicy, type TaskType } from './tasks.table.js';
import { courses } from '../tenancy/tenancy.table.js';

export type TaskRow = typeof tasks.$inferSelect;

export async function findTaskInCourse(db: Db, courseId: number, taskId: number): Promise<TaskRow | undefined> {
  const [row] = await db.select().from(tasks).where(and(eq(tasks.id, taskId), eq(tasks.courseId, courseId)));
  return row;
}

/** A task by id alone with its course's platform, for the operator's command line (`npm run eval -- --task <id>`); pages scope by course. */
export async function findTaskById(db: Db, taskId: number): Promise<(TaskRow & { platformId: number }) | undefined> {
  const [row] = await db.select({ task: tasks, platformId: courses.platformId }).from(tasks).innerJoin(courses, eq(courses.id, tasks.courseId)).where(eq(tasks.id, taskId));
  return row ? { ...row.task, platformId: Number(row.platformId) } : undefined;
}

export async function findTaskByResourceLink(db: Db, courseId: number, resourceLinkId: string): Promise<TaskRow | undefined> {
  const [row] = await db.select().from(tasks).where(and(eq(tasks.courseId, courseId), eq(tasks.resourceLinkId, resourceLinkId)));
  return row;
}

export async function listTasksForCourse(db: Db, courseId: number): Promise<TaskRow[]> {
  return db.select().from(tasks).where(and(eq(tasks.courseId, courseId), eq(tasks.status, 'active'))).orderBy(asc(tasks.id));
}

export interface NewTask {
  courseId: number;
  resourceLinkId: string | null;
  title: string;
  description?: string;
  taskType?: TaskType;
  maxScore?: number;
  releasePolicy?: ReleasePolicy;
  lineItemUrl?: string | null;
  lineItemsUrl?: string | null;
  /** The registration whose client may use the line item URLs (see `tasks.registrationId`). */
  registrationId?: number | null;
  createdBy?: number | null;
  placedAt?: Date | null;
}

/**
 * The task of a resource link, created on its first launch. Two people launching a new link at once must end
 * with one task, so the insert yields to the unique (course, resource link) key and reads the winner.
 */
export async function findOrCreateTaskForLink(db: Db, task: NewTask & { resourceLinkId: string }): Promise<TaskRow> {
  const inserted = await db.insert(tasks).values(task).onConflictDoNothing().returning();
  if (inserted[0]) return inserted[0];
  const existing = await findTaskByResourceLink(db, task.courseId, task.resourceLinkId);
  if (!existing) throw new Error(`task for resource link ${task.resourceLinkId} vanished`);
  return existing;
}

/** The task, locked until the caller's transaction ends (two placements of one task wait for each other). */
export async function lockTaskInCourse(db: Db, courseId: number, taskId: number): Promise<TaskRow | undefined> {
  const [row] = await db.select().from(tasks).where(and(eq(tasks.courseId, courseId), eq(tasks.id, taskId))).for('update');
  return row;
}

/** Records the placement (and the course's line item container, when the task had none). */
export async function markPlaced(db: Db, taskId: number, lineItemsUrl: string | null, registrationId: number | null): Promise<void> {
  await db.update(tasks).set({ placedAt: sql`now()`, lineItemsUrl, registrationId, updatedAt: sql`now()` }).where(eq(tasks.id, taskId));
}

export async function createTask(db: Db, task: NewTask): Promise<TaskRow> {
  const [row] = await db.insert(tasks).values(task).returning();
  return row!;
}

/** Binds a tool-created task (deep linking) to the resource link the LMS made for it, once. */
export async function bindTaskToResourceLink(db: Db, courseId: number, taskId: number, resourceLinkId: string): Promise<boolean> {
  const rows = await db
    .update(tasks)
    .set({ resourceLinkId, updatedAt: sql`now()` })
    .where(and(eq(tasks.id, taskId), eq(tasks.courseId, courseId), isNull(tasks.resourceLinkId)))
    .returning({ id: tasks.id });
  return rows.length > 0;
}

/** Keeps the AGS endpoints a launch told us about, for grade passback from the background. */
/** The URLs and the client whose token may use them change together (`registrationId`: the launch's). */
export async function updateTaskLineItem(db: Db, taskId: number, lineItemUrl: string | null, lineItemsUrl: string | null, registrationId: number): Promise<void> {
  await db
    .update(tasks)
    .set({
      lineItemUrl: sql`coalesce(${lineItemUrl}, ${tasks.lineItemUrl})`,
      lineItemsUrl: sql`coalesce(${lineItemsUrl}, ${tasks.lineItemsUrl})`,
      registrationId,
      updatedAt: sql`now()`,
    })
    .where(eq(tasks.id, taskId));
}

export interface TaskSummary extends TaskRow {
  submissionCount: number;
  hasActivePrompt: boolean;
}

/** The course's tasks with their submission counts (all students, or one student's own). */
export async function listTaskSummaries(db: Db, courseId: number, studentId?: number): Promise<TaskSummary[]> {
  const rows = await db.execute<{ id: number; submission_count: number; has_active_prompt: boolean }>(sql`
    select t.id,
           (select count(*)::int from submissions s where s.task_id = t.id ${studentId ? sql`and s.student_id = ${studentId}` : sql``}) as submission_count,
           exists (select 1 from prompts p where p.task_id = t.id and p.active_version_id is not null and p.status = 'active') as has_active_prompt
    from tasks t where t.course_id = ${courseId} and t.status = 'active'`);
  const extra = new Map(rows.rows.map((r) => [Number(r.id), r]));
  const list = await listTasksForCourse(db, courseId);
  return list.map((t) => ({ ...t, submissionCount: extra.get(t.id)?.submission_count ?? 0, hasActivePrompt: extra.get(t.id)?.has_active_prompt ?? false }));
}

/** The settings an instructor changes on the task settings page. */
export type TaskSettingsValues = Pick<
  TaskRow,
  'title' | 'description' | 'criteria' | 'maxScore' | 'maxAttempts' | 'attemptPolicy' | 'dueAt' | 'latePolicy' | 'releasePolicy' | 'autoReleaseMinConfidence' | 'waitingNote'
>;

export async function updateTaskSettings(db: Db, taskId: number, values: TaskSettingsValues): Promise<TaskRow> {
  const [row] = await db.update(tasks).set({ ...values, updatedAt: sql`now()` }).where(eq(tasks.id, taskId)).returning();
  return row!;
}

/** The activity's page in the LMS, as its launches name it (e-mails about the task link there). */
export async function updateTaskLmsUrl(db: Db, taskId: number, lmsUrl: string): Promise<void> {
  await db.execute(sql`update tasks set lms_url = ${lmsUrl} where id = ${taskId}`);
}
