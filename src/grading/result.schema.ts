import { z } from 'zod';
import type { RubricCriterion } from './rubric.js';

/**
 * The structured answer we ask a model for, one zod schema per rubric. The same schema produces the strict
 * JSON schema sent as `response_format` (so what we send and what we check cannot drift apart) and validates
 * what comes back. Criteria are an object keyed by criterion id, so strict mode makes the model answer every
 * criterion, and each score carries its own range.
 */
export function gradingResultSchema(rubric: RubricCriterion[], maxScore: number) {
  const criteria = Object.fromEntries(
    rubric.map((c) => [
      c.id,
      z.strictObject({
        score: z.number().min(0).max(c.maxPoints).describe(`Points for "${c.name}", from 0 to ${c.maxPoints}`),
        justification: z.string().describe(`Why this score, citing the submission`),
      }),
    ]),
  );
  return z.strictObject({
    criteria: z.strictObject(criteria).describe('One entry per rubric criterion, keyed by criterion id'),
    total_score: z.number().min(0).max(maxScore).describe(`Total score, from 0 to ${maxScore}`),
    strengths: z.array(z.string()).describe('What the student did well'),
    improvements: z.array(z.string()).describe('Concrete, actionable suggestions'),
    comments: z.string().describe('Detailed feedback addressed to the student, in markdown'),
    reasoning: z.string().describe('Grader-only reasoning behind the scores; not shown to the student'),
    confidence: z.number().min(0).max(1).describe('How confident you are in this grading, from 0 to 1'),
  });
}

export type GradingResult = z.infer<ReturnType<typeof gradingResultSchema>>;

export const RESPONSE_FORMAT_NAME = 'grading_result';

/** The strict JSON schema for OpenAI's `response_format: { type: 'json_schema' }`. */
export function gradingJsonSchema(rubric: RubricCriterion[], maxScore: number): Record<string, unknown> {
  const schema = z.toJSONSchema(gradingResultSchema(rubric, maxScore), { target: 'draft-7' }) as Record<string, unknown>;
  delete schema.$schema;
  return schema;
}

export function responseFormatFor(rubric: RubricCriterion[], maxScore: number) {
  return {
    type: 'json_schema' as const,
    json_schema: { name: RESPONSE_FORMAT_NAME, strict: true, schema: gradingJsonSchema(rubric, maxScore) },
  };
}
