import { z } from 'zod';

/**
 * Reads what a grader needs from the request itself: the criteria and their maxima from the response_format
 * schema (criteria keyed by id, each with a score range — see src/grading/result.schema.ts), and each criterion's
 * name and description from the rubric rendered into the prompt ("- Name [id: x] (4 points): description").
 */

export interface RubricCriterionSpec {
  id: string;
  name: string;
  description: string;
  maxPoints: number;
}

export interface GradingSpec {
  criteria: RubricCriterionSpec[];
  maxTotal: number | null;
}

const scoreSchema = z.object({ maximum: z.number().optional(), description: z.string().optional() });
const gradingSchemaShape = z.object({
  properties: z.object({
    criteria: z.object({
      properties: z.record(z.string(), z.object({ properties: z.object({ score: scoreSchema, justification: z.object({}) }) })),
    }),
    total_score: z.object({ maximum: z.number().optional(), description: z.string().optional() }),
  }),
});

const RUBRIC_LINE = /^\s*-\s+(.+?)\s+\[id:\s*([^\]]+)\]\s+\(([\d.]+)\s+points?\)(?::\s*(.*))?$/gm;

export function rubricLinesIn(text: string): Map<string, { name: string; description: string; points: number | null }> {
  const found = new Map<string, { name: string; description: string; points: number | null }>();
  for (const m of text.matchAll(RUBRIC_LINE)) {
    if (m[1] && m[2]) found.set(m[2].trim(), { name: m[1].trim(), description: (m[4] ?? '').trim(), points: Number.isFinite(Number(m[3])) ? Number(m[3]) : null });
  }
  return found;
}

/** "… from 0 to 4" in a description: the range a schema without `maximum` states in words (strict Claude tools). */
function statedMaximum(description: string | undefined): number | null {
  const m = /from\s+0\s+to\s+([\d.]+)/i.exec(description ?? '');
  return m?.[1] && Number.isFinite(Number(m[1])) ? Number(m[1]) : null;
}

/** The grading spec, or null when the schema is not a grading result schema (the grader then fills it generically). */
export function gradingSpecOf(schema: unknown, promptText: string): GradingSpec | null {
  const shape = gradingSchemaShape.safeParse(schema);
  if (!shape.success) return null;
  const lines = rubricLinesIn(promptText);
  const criteria = Object.entries(shape.data.properties.criteria.properties).map(([id, c]) => {
    const fromPrompt = lines.get(id);
    const fromSchema = /"(.+)"/.exec(c.properties.score.description ?? '')?.[1];
    return {
      id,
      name: fromPrompt?.name ?? fromSchema ?? id,
      description: fromPrompt?.description ?? '',
      // A schema without bounds (a strict Claude tool says them in words) leaves the rubric's points to go by.
      maxPoints: c.properties.score.maximum ?? fromPrompt?.points ?? statedMaximum(c.properties.score.description) ?? 10,
    };
  });
  const total = shape.data.properties.total_score;
  return { criteria, maxTotal: total.maximum ?? statedMaximum(total.description) };
}
