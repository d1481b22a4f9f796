import { z } from 'zod';
import { parseTemplate, TemplateError } from '../../grading/template.js';
import { isKnownModel, listModels, providerOfModel, type PricedProvider } from '../../providers/index.js';
import type { RubricCriterion } from '../../grading/rubric.js';
import { fmt, LIMITS, parseNumber } from './prompt-draft-fields.js';
import { assignCriterionIds, checkRubric, type DraftRubricRow } from './prompt-draft-rubric.js';

/**
 * A grading prompt as an instructor writes it, before it becomes a version: the one set of rules both front doors
 * (the htmx editor and the JSON API) go through, so a mistake gets the same message, beside the same field, wherever
 * it was made. Field keys are `template`, `rubric.2.maxPoints`, …: the form names its inputs after them.
 */

export { LIMITS } from './prompt-draft-fields.js';
export { CRITERION_ID, criterionIdFrom } from './prompt-draft-rubric.js';

/** What a front door hands over: numbers may still be text (form fields), rubric rows as typed. */
export interface DraftInput {
  template: string;
  systemInstructions: string;
  graderInstructions: string;
  model: string;
  temperature: string | number;
  maxOutputTokens: string | number;
  rubric: DraftRubricRow[];
  /** 'sum': the maximum score is the sum of the criteria's points; 'custom': `maxScore`. */
  maxScoreMode: 'sum' | 'custom';
  maxScore: string | number | null;
}

/** A valid prompt, ready to be compared with the active version and saved as a new one. */
export interface PromptDraft {
  template: string;
  systemInstructions: string;
  graderInstructions: string;
  /** The model's provider (its price file): where the prompt's requests go. */
  provider: PricedProvider;
  model: string;
  temperature: number;
  maxOutputTokens: number;
  rubric: RubricCriterion[];
  maxScore: number;
  maxScoreMode: 'sum' | 'custom';
}

export type DraftResult = { ok: true; draft: PromptDraft } | { ok: false; fields: Record<string, string> };

const PROVIDER_LABELS: Record<PricedProvider, string> = { openai: 'OpenAI', anthropic: 'Anthropic' };

/**
 * Checks a draft and gives it its final shape (criterion ids assigned, max score resolved). `providers`: the
 * providers the course may use (approved by the course, allowed by the institution, configured here); a model of
 * another provider is refused. Without it, any priced model goes.
 */
export function validateDraft(input: DraftInput, options: { providers?: readonly string[] } = {}): DraftResult {
  const fields: Record<string, string> = {};
  const { template, systemInstructions, graderInstructions } = checkTexts(input, fields);
  const model = checkModel(input.model, fields, options.providers);
  const provider = providerOfModel(model) ?? 'openai';
  const { temperature, maxOutputTokens } = checkGenerationSettings(input, fields, provider);
  const { rubric, givenIds } = checkRubric(input.rubric ?? [], fields);
  const maxScore = resolveMaxScore(input, rubric, fields);

  if (Object.keys(fields).length) return { ok: false, fields };
  assignCriterionIds(rubric, givenIds);

  return {
    ok: true,
    draft: {
      template,
      systemInstructions,
      graderInstructions,
      provider,
      model,
      temperature: (temperature as { value: number }).value,
      maxOutputTokens: (maxOutputTokens as { value: number }).value,
      rubric,
      maxScore,
      maxScoreMode: input.maxScoreMode === 'custom' ? 'custom' : 'sum',
    },
  };
}

/** The template must parse; both instructions are trimmed and held to the length limit. */
function checkTexts(input: DraftInput, fields: Record<string, string>) {
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
  return { template, systemInstructions, graderInstructions };
}

/**
 * Only a model in the price list: every request's cost is estimated before it is sent. A model without Structured
 * Outputs (gpt-3.5-turbo, gpt-4) is told the answer's schema instead of sent it (src/grading/answer-format.ts).
 */
function checkModel(raw: string, fields: Record<string, string>, providers: readonly string[] | undefined): string {
  const model = (raw ?? '').trim();
  const offered = () => listModels().filter((m) => !providers || providers.includes(providerOfModel(m.model) ?? '')).map((m) => m.model);
  if (!model) fields.model = 'Choose a model.';
  else if (!isKnownModel(model)) {
    fields.model = `"${model}" is not in the price list, so its cost cannot be estimated. Choose one of: ${offered().join(', ')}.`;
  } else if (providers && !providers.includes(providerOfModel(model)!)) {
    const label = PROVIDER_LABELS[providerOfModel(model)!];
    fields.model = `${model} is a model of ${label}, which this course may not use (its privacy settings approve ${providers.map((p) => PROVIDER_LABELS[p as PricedProvider] ?? p).join(' and ') || 'no provider'}${providers.length ? '' : ' configured here'}). Choose one of: ${offered().join(', ') || 'none'}.`;
  }
  return model;
}

/** Anthropic's temperature runs from 0 to 1, OpenAI's to 2. */
function checkGenerationSettings(input: DraftInput, fields: Record<string, string>, provider: PricedProvider) {
  const maxTemperature = provider === 'anthropic' ? 1 : LIMITS.temperature;
  const temperature = parseNumber(input.temperature, { min: 0, max: maxTemperature, decimals: 2 }, {
    missing: `Enter a temperature from 0 to ${maxTemperature} (lower gives more consistent grades).`,
    invalid: provider === 'anthropic' ? 'Temperature must be a number from 0 to 1 for Anthropic models.' : 'Temperature must be a number from 0 to 2.',
    decimals: 'Use at most two decimals for the temperature (e.g. 0.25).',
  });
  if (!temperature.ok) fields.temperature = temperature.message;

  const maxOutputTokens = parseNumber(input.maxOutputTokens, { min: 1, max: LIMITS.maxOutputTokens, integer: true }, {
    missing: `Enter the maximum output tokens, a whole number from 1 to ${fmt(LIMITS.maxOutputTokens)}.`,
    invalid: `Max output tokens must be a whole number from 1 to ${fmt(LIMITS.maxOutputTokens)}.`,
  });
  if (!maxOutputTokens.ok) fields.maxOutputTokens = maxOutputTokens.message;
  return { temperature, maxOutputTokens };
}

/** The custom maximum when one is chosen, else the criteria's sum, which must still fit the column. */
function resolveMaxScore(input: DraftInput, rubric: RubricCriterion[], fields: Record<string, string>): number {
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
  return maxScore;
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
  // 0 unless asked otherwise: the same work should get the same grade (issue 22), and an identical resubmission reuses it.
  temperature: z.number({ error: 'Temperature must be a number from 0 to 2.' }).default(0),
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
