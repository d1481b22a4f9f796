import { sql } from 'drizzle-orm';
import type { EditorValues, RubricRowValues } from '../../src/routes/prompts.schema.js';
import type { Stack } from './stack.js';

/** Shared by the prompt tests: a valid editor form, and the ids and rows they look at. */

/** A rubric row as a test writes it: a new criterion has no id yet, so the id may be left out. */
export type CriterionForm = Omit<RubricRowValues, 'id'> & { id?: string };

/** The editor's fields (the same names the route reads them under), with test-friendly rubric rows. */
export type PromptForm = Omit<EditorValues, 'rubric'> & { rubric: CriterionForm[] };

export const VALID_PROMPT: PromptForm = {
  template: 'Grade the essay "{task_title}" out of {max_score}.\n\nCriteria:\n{task_criteria}\n\n{student_submission}',
  systemInstructions: 'You are a fair history teacher.',
  graderInstructions: 'Be strict about citations.',
  model: 'gpt-4o-mini',
  temperature: '0.2',
  maxOutputTokens: '1500',
  rubric: [
    { name: 'Argument', description: 'A clear thesis, defended throughout.', maxPoints: '6' },
    { name: 'Evidence', description: 'At least two primary sources, used well.', maxPoints: '4' },
  ],
  maxScoreMode: 'sum',
  maxScore: '',
  note: 'First version',
  baseVersion: '',
};

/** The editor's form fields as the browser posts them (`rubric[0][name]`, …). */
export function promptForm(changes: Partial<PromptForm> = {}, extra: Record<string, string> = {}): Record<string, string> {
  const p = { ...VALID_PROMPT, ...changes };
  const out: Record<string, string> = {
    template: p.template,
    systemInstructions: p.systemInstructions,
    graderInstructions: p.graderInstructions,
    model: p.model,
    temperature: p.temperature,
    maxOutputTokens: p.maxOutputTokens,
    maxScoreMode: p.maxScoreMode,
    maxScore: p.maxScore,
    note: p.note,
    baseVersion: p.baseVersion,
  };
  p.rubric.forEach((c, i) => {
    out[`rubric[${i}][id]`] = c.id ?? '';
    out[`rubric[${i}][name]`] = c.name;
    out[`rubric[${i}][description]`] = c.description;
    out[`rubric[${i}][maxPoints]`] = c.maxPoints;
  });
  return { ...out, ...extra };
}

/** The dev course's seeded tasks (course-101 of the dev LMS), in link order: essay first. */
export async function seededTasks(stack: Stack): Promise<Array<{ id: number; title: string; courseId: number }>> {
  const rows = await stack.db.db.execute<{ id: number; title: string; course_id: number }>(sql`
    select t.id, t.title, t.course_id from tasks t join courses c on c.id = t.course_id
    where c.context_id = 'course-101' order by t.id`);
  return rows.rows.map((r) => ({ id: Number(r.id), title: r.title, courseId: Number(r.course_id) }));
}

export async function versionRows(stack: Stack, taskId: number) {
  const rows = await stack.db.db.execute<{ version: number; template: string; note: string; restored_from_version: number | null; active: boolean; model: string; max_score: string }>(sql`
    select v.version, v.template, v.note, v.restored_from_version, (p.active_version_id = v.id) as active, v.model, v.max_score::text
    from prompt_versions v join prompts p on p.id = v.prompt_id where p.task_id = ${taskId} order by v.version`);
  return rows.rows;
}

/** Text of an HTML page with tags removed and entities decoded (enough for our own escaping). */
export function decode(html: string): string {
  return html.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&#34;/g, '"').replace(/&#39;/g, "'").replace(/&quot;/g, '"').replace(/&amp;/g, '&');
}
