import { z } from 'zod';
import { parseTemplate, TemplateError } from '../../grading/template.js';
import { isKnownModel, listModels } from '../../providers/index.js';
import type { RubricCriterion } from '../../grading/rubric.js';

/**
 * A grading prompt as an instructor writes it, before it becomes a version: the one set of rules both front doors
 * (the htmx editor and the JSON API) go through, so a mistake gets the same message, beside the same field, wherever
 * it was made. Field keys are `template`, `rubric.2.maxPoints`, …: the form names its inputs after them.
 */

export const LIMITS = {
  instructionsChars: 20_000,
  noteChars: 500,
  criteria: 30,
  criterionNameChars: 120,
  criterionDescriptionChars: 2_000,
  criterionPoints: 10_000,
  /** numeric(8, 2) */
  maxScore: 999_999.99,
  temperature: 2,
  maxOutputTokens: 16_000,
} as const;

export const CRITERION_ID = /^[a-z][a-z0-9_]{0,39}$/;

/** What a front door hands over: numbers may still be text (form fields), rubric rows as typed. */
export interface DraftInput {
  template: string;
  systemInstructions: string;
  graderInstructions: string;
  model: string;
  temperature: string | number;
  maxOutputTokens: string | number;
  rubric: Array<{ id?: string | null; name: string; description: string; maxPoints: string | number }>;
  /** 'sum': the maximum score is the sum of the criteria's points; 'custom': `maxScore`. */
  maxScoreMode: 'sum' | 'custom';
  maxScore: string | number | null;
}

/** A valid prompt, ready to be compared with the active version and saved as a new one. */
export interface PromptDraft {
  template: string;
  systemInstructions: string;
  graderInstructions: string;
  provider: 'openai';
  model: string;
  temperature: number;
  maxOutputTokens: number;
  rubric: RubricCriterion[];
  maxScore: number;
  maxScoreMode: 'sum' | 'custom';
}

export type DraftResult = { ok: true; draft: PromptDraft } | { ok: false; fields: Record<string, string> };

const fmt = (n: number) => n.toLocaleString('en');

/** A number typed into a form (or sent as JSON): one message for "missing", one for "out of range". */
function parseNumber(
  value: string | number | null | undefined,
  rule: { min: number; max: number; minExclusive?: boolean; integer?: boolean; decimals?: number },
  messages: { missing: string; invalid: string; decimals?: string },
): { ok: true; value: number } | { ok: false; message: string } {
  const text = typeof value === 'number' ? String(value) : (value ?? '').trim();
  if (text === '') return { ok: false, message: messages.missing };
  const n = typeof value === 'number' ? value : Number(text.replace(',', '.'));
  if (!Number.isFinite(n)) return { ok: false, message: messages.invalid };
  if (rule.integer && !Number.isInteger(n)) return { ok: false, message: messages.invalid };
  if (rule.minExclusive ? n <= rule.min : n < rule.min) return { ok: false, message: messages.invalid };
  if (n > rule.max) return { ok: false, message: messages.invalid };
  if (rule.decimals !== undefined && Math.abs(n * 10 ** rule.decimals - Math.round(n * 10 ** rule.decimals)) > 1e-9) {
    return { ok: false, message: messages.decimals ?? messages.invalid };
  }
  return { ok: true, value: n };
}

/** A criterion id from its name: "Use of evidence" → "use_of_evidence"; stable once given (the id is kept on rename). */
export function criterionIdFrom(name: string): string {
  const slug = name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '')
    .slice(0, 36)
    .replace(/_+$/, '');
  if (!slug) return 'criterion';
  return /^[a-z]/.test(slug) ? slug : `c_${slug}`.slice(0, 36);
}

function uniqueId(base: string, taken: Set<string>): string {
  let id = base;
  for (let n = 2; taken.has(id); n++) id = `${base.slice(0, 36)}_${n}`;
  taken.add(id);
  return id;
}

function normalizeName(name: string): string {
  return name.trim().replace(/\s+/g, ' ').toLocaleLowerCase('en');
}

/** Checks a draft and gives it its final shape (criterion ids assigned, max score resolved). */
export function validateDraft(input: DraftInput): DraftResult {
  const fields: Record<string, string> = {};

  const template = input.template ?? '';
  try {
    parseTemplate(template);
  } catch (err) {
    if (!(err instanceof TemplateError)) throw err;
    fields.template = err.message;
  }
  const systemInstructions = (input.systemInstructions ?? '').trim();
  if (systemInstructions.length > LIMITS.instructionsChars) {
    fields.systemInstructions = `The system instructions have ${fmt(systemInstructions.length)} characters; the limit is ${fmt(LIMITS.instructionsChars)}.`;
  }
  const graderInstructions = (input.graderInstructions ?? '').trim();
  if (graderInstructions.length > LIMITS.instructionsChars) {
    fields.graderInstructions = `The grader-only instructions have ${fmt(graderInstructions.length)} characters; the limit is ${fmt(LIMITS.instructionsChars)}.`;
  }

  const model = (input.model ?? '').trim();
  if (!model) fields.model = 'Choose a model.';
  else if (!isKnownModel(model)) {
    fields.model = `"${model}" is not in the price list, so its cost cannot be estimated. Choose one of: ${listModels().map((m) => m.model).join(', ')}.`;
  }

  const temperature = parseNumber(input.temperature, { min: 0, max: LIMITS.temperature, decimals: 2 }, {
    missing: 'Enter a temperature from 0 to 2 (lower gives more consistent grades).',
    invalid: 'Temperature must be a number from 0 to 2.',
    decimals: 'Use at most two decimals for the temperature (e.g. 0.25).',
  });
  if (!temperature.ok) fields.temperature = temperature.message;

  const maxOutputTokens = parseNumber(input.maxOutputTokens, { min: 1, max: LIMITS.maxOutputTokens, integer: true }, {
    missing: `Enter the maximum output tokens, a whole number from 1 to ${fmt(LIMITS.maxOutputTokens)}.`,
    invalid: `Max output tokens must be a whole number from 1 to ${fmt(LIMITS.maxOutputTokens)}.`,
  });
  if (!maxOutputTokens.ok) fields.maxOutputTokens = maxOutputTokens.message;

  const rows = input.rubric ?? [];
  if (rows.length === 0) fields.rubric = 'Add at least one criterion: the rubric is what the model scores against.';
  if (rows.length > LIMITS.criteria) fields.rubric = `A rubric can have at most ${LIMITS.criteria} criteria (this one has ${rows.length}).`;

  const rubric: RubricCriterion[] = [];
  const seenNames = new Map<string, number>();
  const givenIds = new Map<string, number>();
  rows.forEach((row, i) => {
    const n = i + 1;
    const name = (row.name ?? '').trim().replace(/\s+/g, ' ');
    const description = (row.description ?? '').trim();
    if (!name) fields[`rubric.${i}.name`] = `Give criterion ${n} a name.`;
    else if (name.length > LIMITS.criterionNameChars) fields[`rubric.${i}.name`] = `The name of criterion ${n} is too long (at most ${LIMITS.criterionNameChars} characters).`;
    else {
      const first = seenNames.get(normalizeName(name));
      if (first !== undefined) fields[`rubric.${i}.name`] = `Criterion ${n} has the same name as criterion ${first} ("${name}"): each criterion needs its own name.`;
      else seenNames.set(normalizeName(name), n);
    }
    if (description.length > LIMITS.criterionDescriptionChars) {
      fields[`rubric.${i}.description`] = `The description of criterion ${n} is too long (at most ${fmt(LIMITS.criterionDescriptionChars)} characters).`;
    }
    const points = parseNumber(row.maxPoints, { min: 0, minExclusive: true, max: LIMITS.criterionPoints, decimals: 2 }, {
      missing: `Enter the points criterion ${n} is worth.`,
      invalid: `Points must be a number more than 0 and at most ${fmt(LIMITS.criterionPoints)}.`,
      decimals: 'Use at most two decimals for points (e.g. 2.5).',
    });
    if (!points.ok) fields[`rubric.${i}.maxPoints`] = points.message;
    const id = (row.id ?? '').trim();
    if (id) {
      if (!CRITERION_ID.test(id)) fields[`rubric.${i}.id`] = `Criterion ${n}'s id "${id}" must be lowercase letters, digits and underscores (at most 40), starting with a letter.`;
      else if (givenIds.has(id)) fields[`rubric.${i}.id`] = `Criterion ${n} has the same id as criterion ${givenIds.get(id)} ("${id}").`;
      else givenIds.set(id, n);
    }
    rubric.push({ id, name, description, maxPoints: points.ok ? points.value : 0 });
  });

  const sum = Math.round(rubric.reduce((acc, c) => acc + c.maxPoints, 0) * 100) / 100;
  let maxScore = sum;
  if (input.maxScoreMode === 'custom') {
    const custom = parseNumber(input.maxScore, { min: 0, minExclusive: true, max: LIMITS.maxScore, decimals: 2 }, {
      missing: 'Enter the maximum score, or choose "the sum of the criteria".',
      invalid: `The maximum score must be a number more than 0 and at most ${fmt(LIMITS.maxScore)}.`,
      decimals: 'Use at most two decimals for the maximum score.',
    });
    if (custom.ok) maxScore = custom.value;
    else fields.maxScore = custom.message;
  } else if (sum > LIMITS.maxScore) {
    fields.maxScore = `The criteria add up to ${fmt(sum)} points; the maximum score can be at most ${fmt(LIMITS.maxScore)}.`;
  }

  if (Object.keys(fields).length) return { ok: false, fields };

  // Ids: kept when given (so a renamed criterion stays the same criterion across versions), else from the name.
  const taken = new Set(givenIds.keys());
  for (const c of rubric) if (!c.id) c.id = uniqueId(criterionIdFrom(c.name), taken);

  return {
    ok: true,
    draft: {
      template,
      systemInstructions,
      graderInstructions,
      provider: 'openai',
      model,
      temperature: (temperature as { value: number }).value,
      maxOutputTokens: (maxOutputTokens as { value: number }).value,
      rubric,
      maxScore,
      maxScoreMode: input.maxScoreMode === 'custom' ? 'custom' : 'sum',
    },
  };
}

/** The fields of a prompt that decide what is sent to the model (a draft, a version or a template). */
export interface PromptContent {
  template: string;
  systemInstructions: string;
  graderInstructions: string;
  model: string;
  temperature: number;
  maxOutputTokens: number;
  rubric: RubricCriterion[];
  maxScore: number;
}

function canonicalRubric(rubric: RubricCriterion[]): string {
  return JSON.stringify(rubric.map((c) => [c.id, c.name, c.description, Number(c.maxPoints)]));
}

/** Whether two prompts would send the same request: what "No changes" means (the note does not count). */
export function sameContent(a: PromptContent, b: PromptContent): boolean {
  return (
    a.template === b.template &&
    a.systemInstructions === b.systemInstructions &&
    a.graderInstructions === b.graderInstructions &&
    a.model === b.model &&
    Number(a.temperature) === Number(b.temperature) &&
    Number(a.maxOutputTokens) === Number(b.maxOutputTokens) &&
    Number(a.maxScore) === Number(b.maxScore) &&
    canonicalRubric(a.rubric) === canonicalRubric(b.rubric)
  );
}

export function rubricSum(rubric: RubricCriterion[]): number {
  return Math.round(rubric.reduce((acc, c) => acc + Number(c.maxPoints), 0) * 100) / 100;
}

/** The JSON API's body for a prompt (the editor's form goes through validateDraft the same way). */
export const promptBodySchema = z.strictObject({
  template: z.string({ error: 'The template is required (a string).' }),
  systemInstructions: z.string().default(''),
  graderInstructions: z.string().default(''),
  model: z.string({ error: 'The model is required (a string).' }),
  temperature: z.number({ error: 'Temperature must be a number from 0 to 2.' }).default(0.2),
  maxOutputTokens: z.number({ error: 'Max output tokens must be a whole number.' }).default(1500),
  rubric: z.array(
    z.strictObject({
      id: z.string().optional(),
      name: z.string({ error: 'Each criterion needs a name (a string).' }),
      description: z.string().default(''),
      maxPoints: z.number({ error: 'Points must be a number more than 0.' }),
    }),
    { error: 'The rubric must be a list of criteria.' },
  ),
  /** Absent or null: the sum of the criteria's points. */
  maxScore: z.number({ error: 'The maximum score must be a number (or null for the sum of the criteria).' }).nullable().optional(),
  note: z.string().max(LIMITS.noteChars, `The note can be at most ${LIMITS.noteChars} characters.`).default(''),
  /** The version the client edited; a save on top of a newer one is refused (409), so nobody overwrites unseen work. */
  baseVersion: z.number().int().positive().nullable().optional(),
});
export type PromptBody = z.infer<typeof promptBodySchema>;

export function draftInputFromBody(body: Omit<PromptBody, 'note' | 'baseVersion'>): DraftInput {
  return {
    template: body.template,
    systemInstructions: body.systemInstructions,
    graderInstructions: body.graderInstructions,
    model: body.model,
    temperature: body.temperature,
    maxOutputTokens: body.maxOutputTokens,
    rubric: body.rubric,
    maxScoreMode: body.maxScore == null ? 'sum' : 'custom',
    maxScore: body.maxScore ?? null,
  };
}
