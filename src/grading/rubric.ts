/** One criterion of a rubric, as prompts store it and requests, schemas and evaluation use it. */
export interface RubricCriterion {
  /** Stable key in the model's answer (`criteria.<id>`). */
  id: string;
  name: string;
  description: string;
  maxPoints: number;
}

/** Why an assessment needs a human: a code (filterable) and a sentence for the reviewer. */
export interface AssessmentFlag {
  code: string;
  message: string;
}
