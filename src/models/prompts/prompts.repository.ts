import { and, asc, desc, eq, sql } from 'drizzle-orm';
import type { Db } from '../../db/db.js';
import { prompts, promptVersions, type RubricCriterion } from './prompts.table.js';

export type PromptRow = typeof prompts.$inferSelect;
export type PromptVersionRow = typeof promptVersions.$inferSelect;

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

/** Newest first. */
export async function listVersions(db: Db, promptId: number): Promise<PromptVersionRow[]> {
  return db.select().from(promptVersions).where(eq(promptVersions.promptId, promptId)).orderBy(desc(promptVersions.version));
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

/** Version numbers in order, for history pickers. */
export async function listVersionNumbers(db: Db, promptId: number): Promise<number[]> {
  const rows = await db.select({ v: promptVersions.version }).from(promptVersions).where(eq(promptVersions.promptId, promptId)).orderBy(asc(promptVersions.version));
  return rows.map((r) => r.v);
}
