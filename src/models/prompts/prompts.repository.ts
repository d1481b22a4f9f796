import { and, asc, desc, eq, isNull, or, sql } from 'drizzle-orm';
import type { Db } from '../../db/db.js';
import { users } from '../tenancy/tenancy.table.js';
import type { RubricCriterion } from '../../grading/rubric.js';
import { prompts, promptTemplates, promptVersions } from './prompts.table.js';

export type PromptRow = typeof prompts.$inferSelect;
export type PromptVersionRow = typeof promptVersions.$inferSelect;
export type PromptTemplateRow = typeof promptTemplates.$inferSelect;

/** The fields of a version, as a caller supplies them (validated by the prompts service first). */
export interface PromptVersionInput {
  template: string;
  systemInstructions: string;
  graderInstructions: string;
  provider: string;
  model: string;
  temperature: number;
  maxOutputTokens: number;
  rubric: RubricCriterion[];
  maxScore: number;
  outputSchema: Record<string, unknown>;
  note: string;
  restoredFromVersion?: number | null;
}

export async function findPromptForTask(db: Db, taskId: number): Promise<PromptRow | undefined> {
  const [row] = await db.select().from(prompts).where(eq(prompts.taskId, taskId));
  return row;
}

/** The version new submissions of a task are graded with, or undefined when the task has none. */
export async function findActiveVersion(db: Db, taskId: number): Promise<PromptVersionRow | undefined> {
  const [row] = await db
    .select({ version: promptVersions })
    .from(prompts)
    .innerJoin(promptVersions, eq(promptVersions.id, prompts.activeVersionId))
    .where(and(eq(prompts.taskId, taskId), eq(prompts.status, 'active')));
  return row?.version;
}

export async function findVersionById(db: Db, versionId: number): Promise<PromptVersionRow | undefined> {
  const [row] = await db.select().from(promptVersions).where(eq(promptVersions.id, versionId));
  return row;
}

export async function findVersion(db: Db, promptId: number, version: number): Promise<PromptVersionRow | undefined> {
  const [row] = await db.select().from(promptVersions).where(and(eq(promptVersions.promptId, promptId), eq(promptVersions.version, version)));
  return row;
}

/**
 * Appends a version to the task's prompt (creating the prompt on the first save) and makes it the active one.
 * Versions are immutable: nothing here updates or deletes one. The prompt row is locked while the next number
 * is taken, so two instructors saving at once get versions n and n+1, never the same number. Run it inside the
 * caller's transaction.
 */
export async function appendVersion(db: Db, taskId: number, authorId: number | null, input: PromptVersionInput): Promise<PromptVersionRow> {
  await db.insert(prompts).values({ taskId }).onConflictDoNothing();
  const [prompt] = await db.select().from(prompts).where(eq(prompts.taskId, taskId)).for('update');
  if (!prompt) throw new Error(`prompt of task ${taskId} vanished`);
  const [{ next } = { next: 1 }] = await db
    .select({ next: sql<number>`coalesce(max(${promptVersions.version}), 0) + 1` })
    .from(promptVersions)
    .where(eq(promptVersions.promptId, prompt.id));
  const [version] = await db
    .insert(promptVersions)
    .values({ ...input, promptId: prompt.id, version: Number(next), authorId })
    .returning();
  await db.update(prompts).set({ activeVersionId: version!.id, status: 'active', updatedAt: sql`now()` }).where(eq(prompts.id, prompt.id));
  return version!;
}

/**
 * The task's prompt row, created if missing, locked until the caller's transaction ends: whatever the caller
 * decides from the active version (no changes? someone else saved first?) still holds when it appends.
 */
export async function lockPromptForTask(db: Db, taskId: number): Promise<PromptRow> {
  await db.insert(prompts).values({ taskId }).onConflictDoNothing();
  const [prompt] = await db.select().from(prompts).where(eq(prompts.taskId, taskId)).for('update');
  if (!prompt) throw new Error(`prompt of task ${taskId} vanished`);
  return prompt;
}

export interface VersionWithAuthor extends PromptVersionRow {
  authorName: string | null;
}

/** Newest first, each with its author's name (for history lists). */
export async function listVersionsWithAuthors(db: Db, promptId: number): Promise<VersionWithAuthor[]> {
  const rows = await db
    .select({ version: promptVersions, authorName: users.name })
    .from(promptVersions)
    .leftJoin(users, eq(users.id, promptVersions.authorId))
    .where(eq(promptVersions.promptId, promptId))
    .orderBy(desc(promptVersions.version));
  return rows.map((r) => ({ ...r.version, authorName: r.authorName }));
}

export async function findVersionWithAuthor(db: Db, promptId: number, version: number): Promise<VersionWithAuthor | undefined> {
  const [row] = await db
    .select({ version: promptVersions, authorName: users.name })
    .from(promptVersions)
    .leftJoin(users, eq(users.id, promptVersions.authorId))
    .where(and(eq(promptVersions.promptId, promptId), eq(promptVersions.version, version)));
  return row ? { ...row.version, authorName: row.authorName } : undefined;
}

/** No version is active any more; every version stays (queue items and assessments point at them). */
export async function archivePrompt(db: Db, promptId: number): Promise<void> {
  await db.update(prompts).set({ status: 'archived', activeVersionId: null, updatedAt: sql`now()` }).where(eq(prompts.id, promptId));
}

/**
 * Queue items still to be graded with one of the prompt's versions: waiting, in a batch, or failed with attempts
 * left (a failed item goes back to the queue while it has some).
 */
export async function unfinishedQueueUse(db: Db, promptId: number): Promise<{ items: number; versions: number[] }> {
  const rows = await db.execute<{ version: number; items: number }>(sql`
    select v.version, count(*)::int as items
    from queue_items q join prompt_versions v on v.id = q.prompt_version_id
    where v.prompt_id = ${promptId}
      and (q.status in ('queued', 'selected', 'processing') or (q.status = 'failed' and q.attempts < q.max_attempts))
    group by v.version order by v.version`);
  return { items: rows.rows.reduce((acc, r) => acc + Number(r.items), 0), versions: rows.rows.map((r) => Number(r.version)) };
}

export interface CopyTarget {
  taskId: number;
  taskTitle: string;
  /** The target task's maximum: a copied rubric with another total is warned about. */
  taskMaxScore: number;
  courseId: number;
  courseTitle: string;
}

/**
 * Tasks a user may copy a prompt to: active tasks of the courses of this platform where they are an instructor.
 * With `taskId`, that one task if it qualifies (the check behind a copy), else every such task.
 */
export async function listCopyTargets(db: Db, who: { platformId: number; userId: number }, taskId?: number): Promise<CopyTarget[]> {
  const rows = await db.execute<{ task_id: number; task_title: string; task_max_score: number; course_id: number; course_title: string }>(sql`
    select t.id as task_id, t.title as task_title, t.max_score as task_max_score, c.id as course_id, c.title as course_title
    from memberships m
    join courses c on c.id = m.course_id and c.platform_id = ${who.platformId}
    join tasks t on t.course_id = c.id and t.status = 'active'
    where m.user_id = ${who.userId} and m.role = 'instructor' ${taskId === undefined ? sql`` : sql`and t.id = ${taskId}`}
    order by c.title, c.id, t.title, t.id`);
  return rows.rows.map((r) => ({ taskId: Number(r.task_id), taskTitle: r.task_title, taskMaxScore: Number(r.task_max_score), courseId: Number(r.course_id), courseTitle: r.course_title }));
}

/** Mean output tokens of this task's graded answers with a model (the last 200), for cost estimates. */
export async function observedOutputTokens(db: Db, taskId: number, model: string): Promise<{ mean: number; count: number } | null> {
  const rows = await db.execute<{ mean: number | null; n: number }>(sql`
    select avg(output_tokens)::float8 as mean, count(*)::int as n from (
      select output_tokens from assessments
      where task_id = ${taskId} and model = ${model} and result is not null and output_tokens > 0
      order by id desc limit 200) recent`);
  const row = rows.rows[0];
  return row && row.n > 0 && row.mean !== null ? { mean: Number(row.mean), count: Number(row.n) } : null;
}

/** Students of a course the tool knows of (everyone who has launched it as a student). */
export async function countCourseStudents(db: Db, courseId: number): Promise<number> {
  const rows = await db.execute<{ n: number }>(sql`select count(*)::int as n from memberships where course_id = ${courseId} and role = 'student'`);
  return Number(rows.rows[0]?.n ?? 0);
}

/** Templates an instructor of the course can use: the course's own, and shared ones of the platform (or all). */
export async function listTemplateRows(db: Db, scope: { platformId: number; courseId: number }): Promise<PromptTemplateRow[]> {
  return db
    .select()
    .from(promptTemplates)
    .where(
      or(
        eq(promptTemplates.courseId, scope.courseId),
        and(isNull(promptTemplates.courseId), or(isNull(promptTemplates.platformId), eq(promptTemplates.platformId, scope.platformId))),
      ),
    )
    .orderBy(asc(promptTemplates.name), asc(promptTemplates.id));
}

export async function findTemplateRow(db: Db, scope: { platformId: number; courseId: number }, id: number): Promise<PromptTemplateRow | undefined> {
  return (await listTemplateRows(db, scope)).find((t) => t.id === id);
}

export async function findCourseTemplateByName(db: Db, courseId: number, name: string): Promise<PromptTemplateRow | undefined> {
  const [row] = await db.select().from(promptTemplates).where(and(eq(promptTemplates.courseId, courseId), eq(promptTemplates.name, name)));
  return row;
}

export type NewTemplate = Omit<typeof promptTemplates.$inferInsert, 'id' | 'createdAt'>;

export async function insertTemplate(db: Db, values: NewTemplate): Promise<PromptTemplateRow> {
  const [row] = await db.insert(promptTemplates).values(values).returning();
  return row!;
}

export async function replaceTemplate(db: Db, id: number, values: NewTemplate): Promise<PromptTemplateRow> {
  const [row] = await db.update(promptTemplates).set(values).where(eq(promptTemplates.id, id)).returning();
  return row!;
}

/** Deletes one of a course's own templates (shared ones are not the course's to delete). */
export async function deleteCourseTemplate(db: Db, courseId: number, id: number): Promise<PromptTemplateRow | undefined> {
  const [row] = await db.delete(promptTemplates).where(and(eq(promptTemplates.id, id), eq(promptTemplates.courseId, courseId))).returning();
  return row;
}
