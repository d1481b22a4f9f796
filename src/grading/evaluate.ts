import { z } from 'zod';
import { assessResultForInjection } from './injection-answer.js';
import { submissionInjectionFlag, type StoredScan } from './injection.js';
import { gradingResultSchema, type GradingResult } from './result.schema.js';
import type { RubricCriterion } from './rubric.js';
import type { AssessmentFlag } from './rubric.js';

/**
 * A model's answer → what we store: the validated result (scores clamped into range), the score, and flags that
 * send it to a human. Never throws: anything unusable is kept as raw output with the reason, for review. With the
 * injection scan of the text that was sent, a suspicious submission is flagged whatever the model answered, and a
 * usable answer is checked for signs the model obeyed it (src/grading/injection.ts, injection-answer.ts).
 */

export interface AnswerInput {
  content: string | null;
  refusal: string | null;
  finishReason: string;
}

export interface Evaluation {
  result: Record<string, unknown> | null;
  score: number | null;
  modelConfidence: number | null;
  computedConfidence: number | null;
  flags: AssessmentFlag[];
  needsReview: boolean;
}

/** Below this model-reported confidence a human looks first (PrairieLearn #12453). */
export const LOW_CONFIDENCE = 0.5;

// Built once per rubric: by the rubric array itself (ingestion passes the same one for every line of a prompt
// version, so no key is computed per line), then by its contents (a rubric read again equals the cached one).
const schemasByRubric = new WeakMap<RubricCriterion[], { maxScore: number; schema: ReturnType<typeof gradingResultSchema> }>();
const schemas = new Map<string, ReturnType<typeof gradingResultSchema>>();
function strictSchema(rubric: RubricCriterion[], maxScore: number) {
  const known = schemasByRubric.get(rubric);
  if (known && known.maxScore === maxScore) return known.schema;
  const key = JSON.stringify([rubric, maxScore]);
  let s = schemas.get(key);
  if (!s) {
    if (schemas.size > 200) schemas.clear();
    s = gradingResultSchema(rubric, maxScore);
    schemas.set(key, s);
  }
  schemasByRubric.set(rubric, { maxScore, schema: s });
  return s;
}

const round2 = (n: number) => Math.round(n * 100) / 100;

function issuesText(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
    .join('; ');
}

export function evaluateAnswer(answer: AnswerInput, rubric: RubricCriterion[], maxScore: number, scan: StoredScan | null = null): Evaluation {
  const flags: AssessmentFlag[] = [];
  const fromSubmission = submissionInjectionFlag(scan);
  const unusable = (flag: AssessmentFlag): Evaluation => ({ result: null, score: null, modelConfidence: null, computedConfidence: null, flags: [...flags, flag, ...(fromSubmission ? [fromSubmission] : [])], needsReview: true });

  if (answer.refusal) return unusable({ code: 'refusal', message: `The model refused to grade: ${answer.refusal.slice(0, 500)}` });
  if (answer.content == null || answer.content.trim() === '') return unusable({ code: 'empty_output', message: 'The model returned no answer.' });
  if (answer.finishReason === 'length') flags.push({ code: 'truncated', message: 'The answer was cut off at the maximum output tokens.' });

  const parsed = parseAnswerObject(answer.content, answer.finishReason);
  if ('problem' in parsed) return unusable(parsed.problem);

  // Lenient first: bring scores into range (and say so), then hold the result to the strict schema. The object was
  // just parsed and nothing else holds it, so it is corrected in place (no copy: ingestion runs this per line).
  const obj = parsed.object;
  const missing = clampCriterionScores(obj, rubric, flags);
  if (missing.length) return unusable({ code: 'missing_criteria', message: `The answer has no valid score for: ${missing.join(', ')}.` });
  clampTotalAndConfidence(obj, maxScore, flags);

  const strict = strictSchema(rubric, maxScore).safeParse(obj);
  if (!strict.success) return unusable({ code: 'schema_mismatch', message: `The answer does not match the grading schema: ${issuesText(strict.error)}` });
  // zod's copy, not `obj`: it lists the criteria in rubric order, whatever order the model wrote them in.
  const result = strict.data;
  flags.push(...doubtsAbout(result, rubric, maxScore, scan));

  // Our own confidence: the model's, lowered for every problem we found with its answer.
  const penalty = flags.reduce((p, f) => p + (f.code === 'low_confidence' ? 0 : 0.2), 0);
  return {
    result: result as Record<string, unknown>,
    score: round2(result.total_score),
    modelConfidence: result.confidence,
    computedConfidence: round2(Math.max(0, result.confidence - penalty)),
    flags,
    needsReview: flags.length > 0,
  };
}

// A whole answer inside one Markdown code fence (```json … ```): how models answering JSON by instruction rather
// than by a response format (gpt-3.5-turbo, gpt-4: answer-format.ts) often wrap it. Only a fence around the whole
// answer is taken off; anything else around the JSON still makes it malformed.
const FENCED = /^\s*```[ \t]*(?:json)?[ \t]*\r?\n([\s\S]*?)\r?\n?[ \t]*```\s*$/i;

/** The answer as a JSON object, or why it is not one (a cut-off answer is the usual cause of broken JSON). */
function parseAnswerObject(content: string, finishReason: string): { object: Record<string, unknown> } | { problem: AssessmentFlag } {
  let json: unknown;
  try {
    json = JSON.parse(FENCED.exec(content)?.[1] ?? content);
  } catch {
    return { problem: { code: 'malformed_json', message: finishReason === 'length' ? 'The answer was cut off before its JSON was complete.' : 'The answer is not valid JSON.' } };
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return { problem: { code: 'malformed_json', message: 'The answer is JSON but not an object.' } };
  return { object: json as Record<string, unknown> };
}

/**
 * Clamps each criterion's score into its range in place, flagging every correction, and returns the ids of the
 * criteria with no usable score (all of them when `criteria` is not an object).
 */
function clampCriterionScores(obj: Record<string, unknown>, rubric: RubricCriterion[], flags: AssessmentFlag[]): string[] {
  const criteria = obj.criteria;
  if (!criteria || typeof criteria !== 'object' || Array.isArray(criteria)) return rubric.map((c) => c.id);
  const missing: string[] = [];
  for (const c of rubric) {
    const entry = (criteria as Record<string, unknown>)[c.id] as { score?: unknown } | undefined;
    if (!entry || typeof entry !== 'object' || typeof entry.score !== 'number' || !Number.isFinite(entry.score)) {
      missing.push(c.id);
      continue;
    }
    if (entry.score < 0 || entry.score > c.maxPoints) {
      const clamped = Math.min(c.maxPoints, Math.max(0, entry.score));
      flags.push({ code: 'score_out_of_range', message: `Criterion "${c.name}" scored ${entry.score}, outside 0–${c.maxPoints}; clamped to ${clamped}.` });
      entry.score = clamped;
    }
  }
  return missing;
}

/** Clamps the total score and the confidence into range in place, flagging each correction. */
function clampTotalAndConfidence(obj: Record<string, unknown>, maxScore: number, flags: AssessmentFlag[]): void {
  if (typeof obj.total_score === 'number' && Number.isFinite(obj.total_score) && (obj.total_score < 0 || obj.total_score > maxScore)) {
    const clamped = Math.min(maxScore, Math.max(0, obj.total_score));
    flags.push({ code: 'score_out_of_range', message: `The total score ${obj.total_score} is outside 0–${maxScore}; clamped to ${clamped}.` });
    obj.total_score = clamped;
  }
  if (typeof obj.confidence === 'number' && (obj.confidence < 0 || obj.confidence > 1)) {
    flags.push({ code: 'confidence_out_of_range', message: `The reported confidence ${obj.confidence} is outside 0–1.` });
    obj.confidence = Math.min(1, Math.max(0, obj.confidence));
  }
}

/** What is wrong with a result that matches the schema: a total that is not the sum, low confidence, signs of injection. */
function doubtsAbout(result: GradingResult, rubric: RubricCriterion[], maxScore: number, scan: StoredScan | null): AssessmentFlag[] {
  const doubts: AssessmentFlag[] = [];
  const sum = round2(rubric.reduce((acc, c) => acc + (result.criteria as Record<string, { score: number }>)[c.id]!.score, 0));
  const cappedSum = Math.min(maxScore, sum);
  if (Math.abs(cappedSum - result.total_score) > 0.01) {
    doubts.push({ code: 'total_mismatch', message: `The total score ${result.total_score} differs from the sum of the criteria (${cappedSum}).` });
  }
  if (result.confidence < LOW_CONFIDENCE) doubts.push({ code: 'low_confidence', message: `The model reports low confidence (${result.confidence}).` });
  const injection = assessResultForInjection(result, scan, maxScore);
  if (injection) doubts.push(injection);
  return doubts;
}
