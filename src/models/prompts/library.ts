import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { z } from 'zod';
import type { Db } from '../../db/db.js';
import { ROOT } from '../../paths.js';
import { TASK_TYPES, type TaskType } from '../tasks/tasks.table.js';
import { rubricSum, validateDraft, type PromptContent } from './prompt-draft.js';
import { findTemplateRow, listTemplateRows, type PromptTemplateRow } from './prompts.repository.js';

/**
 * The prompt library: built-in templates shipped with the tool (src/models/prompts/templates/*.yaml, versioned with
 * the code, so an improvement reaches every installation without a data migration), shared templates of a platform,
 * and the templates instructors save for their course (prompt_templates). Applying one fills the editor; nothing
 * is saved until the instructor saves.
 */

export const TEMPLATES_DIR = path.join(ROOT, 'src', 'models', 'prompts', 'templates');

export type TemplateScope = 'builtin' | 'shared' | 'course';

export interface LibraryTemplate {
  /** "builtin:essay", or "db:42" for a stored template: what the editor's `?template=` names. */
  key: string;
  scope: TemplateScope;
  /** The stored template's id (course and shared templates). */
  id: number | null;
  name: string;
  description: string;
  taskType: TaskType;
  content: PromptContent;
  /** Whether the maximum score is separate from the sum of the criteria. */
  customMaxScore: boolean;
}

const fileSchema = z.strictObject({
  name: z.string().min(1),
  description: z.string().min(1),
  taskType: z.enum(TASK_TYPES),
  model: z.string(),
  temperature: z.number(),
  maxOutputTokens: z.number(),
  systemInstructions: z.string(),
  graderInstructions: z.string(),
  template: z.string(),
  rubric: z.array(z.strictObject({ id: z.string(), name: z.string(), description: z.string(), maxPoints: z.number() })),
  maxScore: z.number().optional(),
});

let builtins: LibraryTemplate[] | undefined;

/** Read, validated (as the editor would validate them) and kept on first use: a broken file fails loudly. */
export function builtinTemplates(): LibraryTemplate[] {
  if (builtins) return builtins;
  const files = readdirSync(TEMPLATES_DIR).filter((f) => f.endsWith('.yaml')).sort();
  builtins = files.map((file) => {
    const where = `src/models/prompts/templates/${file}`;
    const parsed = fileSchema.safeParse(YAML.parse(readFileSync(path.join(TEMPLATES_DIR, file), 'utf8')));
    if (!parsed.success) throw new Error(`${where}: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
    const t = parsed.data;
    const checked = validateDraft({ ...t, maxScoreMode: t.maxScore === undefined ? 'sum' : 'custom', maxScore: t.maxScore ?? null });
    if (!checked.ok) throw new Error(`${where}: ${Object.entries(checked.fields).map(([k, v]) => `${k}: ${v}`).join('; ')}`);
    return {
      key: `builtin:${file.replace(/\.yaml$/, '')}`,
      scope: 'builtin' as const,
      id: null,
      name: t.name,
      description: t.description,
      taskType: t.taskType,
      content: checked.draft,
      customMaxScore: t.maxScore !== undefined,
    };
  });
  return builtins;
}

function fromRow(row: PromptTemplateRow): LibraryTemplate {
  const maxScore = row.maxScore ?? rubricSum(row.rubric);
  return {
    key: `db:${row.id}`,
    scope: row.courseId === null ? 'shared' : 'course',
    id: row.id,
    name: row.name,
    description: row.description,
    taskType: (TASK_TYPES as readonly string[]).includes(row.taskType) ? (row.taskType as TaskType) : 'other',
    content: {
      template: row.template,
      systemInstructions: row.systemInstructions,
      graderInstructions: row.graderInstructions,
      model: row.model,
      temperature: row.temperature,
      maxOutputTokens: row.maxOutputTokens,
      rubric: row.rubric,
      maxScore,
    },
    customMaxScore: row.maxScore !== null,
  };
}

/** Everything an instructor of the course can apply: the course's own first, then shared, then built-in. */
export async function listLibrary(db: Db, scope: { platformId: number; courseId: number }): Promise<LibraryTemplate[]> {
  const rows = (await listTemplateRows(db, scope)).map(fromRow);
  return [...rows.filter((t) => t.scope === 'course'), ...rows.filter((t) => t.scope === 'shared'), ...builtinTemplates()];
}

export async function findLibraryTemplate(db: Db, scope: { platformId: number; courseId: number }, key: string): Promise<LibraryTemplate | undefined> {
  if (key.startsWith('builtin:')) return builtinTemplates().find((t) => t.key === key);
  const id = /^db:(\d{1,15})$/.exec(key)?.[1];
  if (!id) return undefined;
  const row = await findTemplateRow(db, scope, Number(id));
  return row ? fromRow(row) : undefined;
}

/** Where a new prompt starts: the built-in template for the task's type (the essay one for anything else). */
export function starterTemplateFor(taskType: TaskType): LibraryTemplate {
  const all = builtinTemplates();
  return all.find((t) => t.taskType === taskType) ?? all.find((t) => t.taskType === 'essay') ?? all[0]!;
}
