import { charCount } from '../chars.js';
import { z } from 'zod';
import { LIMITS, rubricSum, type DraftInput, type PromptContent, promptBodySchema } from '../models/prompts/prompt-draft.js';
import { MAX_SAMPLES } from '../models/prompts/sample-test.service.js';
import { formText } from './form.js';

/**
 * The prompt editor's form, read into the values it is re-rendered with (always, valid or not, so nothing typed is
 * lost) and into the draft the rules check. Inputs are named after the field keys messages use:
 * `rubric[2][maxPoints]` ↔ `rubric.2.maxPoints`.
 */

export interface RubricRowValues {
  id: string;
  name: string;
  description: string;
  maxPoints: string;
}

export interface EditorValues {
  template: string;
  systemInstructions: string;
  graderInstructions: string;
  model: string;
  temperature: string;
  maxOutputTokens: string;
  rubric: RubricRowValues[];
  maxScoreMode: 'sum' | 'custom';
  maxScore: string;
  note: string;
  /** The active version the editor was loaded from ('' for none): a save on top of a newer one is refused. */
  baseVersion: string;
}

/** The preview and test inputs that live beside the prompt: sample submissions and the class size. */
export interface BenchValues {
  samples: string[];
  students: string;
}

export type EditorAction = { kind: 'save' | 'preview' | 'test' | 'add-criterion' } | { kind: 'remove-criterion'; index: number };

type Body = Record<string, unknown>;

const RUBRIC_KEY = /^rubric\[(\d{1,2})\]\[(id|name|description|maxPoints)\]$/;

/** The editor's fields from a posted form. Rubric rows keep their posted order (by index). */
export function editorValuesFromForm(body: Body): EditorValues {
  const rows = new Map<number, RubricRowValues>();
  for (const key of Object.keys(body)) {
    const m = RUBRIC_KEY.exec(key);
    if (!m) continue;
    const index = Number(m[1]);
    const row = rows.get(index) ?? { id: '', name: '', description: '', maxPoints: '' };
    row[m[2] as keyof RubricRowValues] = formText(body, key);
    rows.set(index, row);
  }
  return {
    template: formText(body, 'template'),
    systemInstructions: formText(body, 'systemInstructions'),
    graderInstructions: formText(body, 'graderInstructions'),
    model: formText(body, 'model'),
    temperature: formText(body, 'temperature'),
    maxOutputTokens: formText(body, 'maxOutputTokens'),
    rubric: [...rows.entries()].sort((a, b) => a[0] - b[0]).map(([, r]) => r),
    maxScoreMode: formText(body, 'maxScoreMode') === 'custom' ? 'custom' : 'sum',
    maxScore: formText(body, 'maxScore'),
    note: formText(body, 'note'),
    // Absent (a client that does not track versions) is not "none": it skips the stale-version check.
    baseVersion: body.baseVersion === undefined ? 'unknown' : formText(body, 'baseVersion'),
  };
}

export function benchValuesFromForm(body: Body): BenchValues {
  return {
    samples: Array.from({ length: MAX_SAMPLES }, (_, i) => formText(body, `samples[${i}]`)),
    students: formText(body, 'students'),
  };
}

export function editorActionFrom(body: Body): EditorAction {
  const action = formText(body, 'action');
  const remove = /^remove-criterion:(\d{1,2})$/.exec(action);
  if (remove) return { kind: 'remove-criterion', index: Number(remove[1]) };
  if (action === 'preview' || action === 'test' || action === 'add-criterion') return { kind: action };
  return { kind: 'save' };
}

/** The editor's fields for a saved version, a template or the starter prompt. */
export function editorValuesFrom(content: PromptContent, options: { customMaxScore?: boolean; note?: string; baseVersion?: number | null } = {}): EditorValues {
  const custom = options.customMaxScore ?? Number(content.maxScore) !== rubricSum(content.rubric);
  return {
    template: content.template,
    systemInstructions: content.systemInstructions,
    graderInstructions: content.graderInstructions,
    model: content.model,
    temperature: String(Number(content.temperature)),
    maxOutputTokens: String(content.maxOutputTokens),
    rubric: content.rubric.map((c) => ({ id: c.id, name: c.name, description: c.description, maxPoints: String(Number(c.maxPoints)) })),
    maxScoreMode: custom ? 'custom' : 'sum',
    maxScore: custom ? String(Number(content.maxScore)) : '',
    note: options.note ?? '',
    baseVersion: options.baseVersion == null ? '' : String(options.baseVersion),
  };
}

export function draftInputOf(v: EditorValues): DraftInput {
  return {
    template: v.template,
    systemInstructions: v.systemInstructions,
    graderInstructions: v.graderInstructions,
    model: v.model,
    temperature: v.temperature,
    maxOutputTokens: v.maxOutputTokens,
    rubric: v.rubric,
    maxScoreMode: v.maxScoreMode,
    maxScore: v.maxScore,
  };
}

/** Field messages for the parts of the form that are not the prompt itself. */
export function noteErrors(v: EditorValues): Record<string, string> {
  return v.note.length > LIMITS.noteChars ? { note: `The note can be at most ${LIMITS.noteChars} characters.` } : {};
}

/** The base version the form was loaded from: null for none, undefined when the form did not say (skip the check). */
export function baseVersionOf(v: EditorValues): number | null | undefined {
  if (v.baseVersion === '') return null;
  const n = Number(v.baseVersion);
  return Number.isInteger(n) && n > 0 ? n : undefined;
}

/** The non-empty samples, numbered as the instructor numbered them; with a message per sample that is too long. */
export function samplesOf(bench: BenchValues, maxChars: number): { samples: Array<{ index: number; text: string }>; fields: Record<string, string> } {
  const fields: Record<string, string> = {};
  const samples: Array<{ index: number; text: string }> = [];
  bench.samples.forEach((text, i) => {
    if (!text.trim()) return;
    if (charCount(text) > maxChars) fields[`samples.${i}`] = `Sample ${i + 1} has ${charCount(text).toLocaleString('en')} characters; submissions are limited to ${maxChars.toLocaleString('en')}.`;
    else samples.push({ index: i + 1, text });
  });
  if (!samples.length && !Object.keys(fields).length) fields['samples.0'] = 'Paste at least one sample submission to test the prompt on.';
  return { samples, fields };
}

/** How many students to price the preview for: the field when it holds a sensible number, else the course's count. */
export function studentsOf(bench: BenchValues, fallback: number): number {
  const n = Number(bench.students.trim());
  return bench.students.trim() !== '' && Number.isInteger(n) && n >= 0 && n <= 100_000 ? n : fallback;
}

/** POST /api/tasks/{id}/llm-prompt/test/: samples, and optionally a prompt to test instead of the active version. */
export const apiTestBodySchema = z.strictObject({
  samples: z
    .array(z.string({ error: 'Each sample must be a string.' }), { error: 'samples must be a list of sample submissions.' })
    .min(1, 'Send at least one sample submission.')
    .max(MAX_SAMPLES, `At most ${MAX_SAMPLES} samples per test.`),
  prompt: promptBodySchema.omit({ note: true, baseVersion: true }).optional(),
});
export type ApiTestBody = z.infer<typeof apiTestBodySchema>;
