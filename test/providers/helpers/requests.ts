import { buildMessages } from '../../../src/grading/messages.js';
import { responseFormatFor } from '../../../src/grading/result.schema.js';
import type { RubricCriterion } from '../../../src/grading/rubric.js';
import { customIdFor } from '../../../src/providers/custom-id.js';
import { gradingRequestFor, type GradingRequest } from '../../../src/grading/request.js';
import { gradingJsonSchema } from '../../../src/grading/result.schema.js';

export const RUBRIC: RubricCriterion[] = [
  { id: 'thesis', name: 'Thesis', description: 'States a clear, arguable thesis about the causes of the war.', maxPoints: 4 },
  { id: 'evidence', name: 'Evidence', description: 'Supports each claim with historical evidence and cited sources.', maxPoints: 6 },
];

const ESSAY = [
  'My thesis is that the alliance system turned a regional crisis into a world war.',
  'The evidence is strong: historians cite the July Crisis and mobilisation timetables as sources.',
  'Militarism and the naval race also mattered, as Clark argues in The Sleepwalkers.',
  '- Alliances\n- Militarism\n- Imperialism\n- Nationalism',
];

export function essay(i: number): string {
  return ESSAY.slice(0, 1 + (i % ESSAY.length)).join('\n\n') + ` (student ${i})`;
}

const TEMPLATE = 'Task: {task_title}\n{task_description}\n\nRubric:\n{task_criteria}\nMaximum score: {max_score}\n\n{student_submission}';
const TASK = { title: 'Causes of the First World War', description: 'Explain the main causes of the war.' };

/**
 * A grading request through the request builder the queue uses (src/grading/request.ts), for any model: a model
 * without Structured Outputs (gpt-4, gpt-3.5-turbo) gets no response format and the schema in its instructions.
 */
export function builtGradingRequest(queueItemId: number, model: string, options: { submission?: string; maxOutputTokens?: number } = {}): GradingRequest {
  const version = { template: TEMPLATE, systemInstructions: 'You are a fair, careful grader.', graderInstructions: '', rubric: RUBRIC, maxScore: 10, model, temperature: 0.2, maxOutputTokens: options.maxOutputTokens ?? 1500, outputSchema: gradingJsonSchema(RUBRIC, 10) };
  return gradingRequestFor({ version, task: TASK }, options.submission ?? essay(queueItemId), customIdFor(queueItemId, 1));
}

/** A grading request as the queue would build it: buildMessages + the strict response format. */
export function gradingRequest(queueItemId: number, options: { model?: string; attempt?: number; submission?: string; maxOutputTokens?: number } = {}): GradingRequest {
  return {
    customId: customIdFor(queueItemId, options.attempt ?? 1),
    model: options.model ?? 'gpt-4o-mini',
    messages: buildMessages(
      {
        template: TEMPLATE,
        systemInstructions: 'You are a fair, careful grader.',
        graderInstructions: '',
        rubric: RUBRIC,
        maxScore: 10,
      },
      TASK,
      options.submission ?? essay(queueItemId),
    ),
    temperature: 0.2,
    maxOutputTokens: options.maxOutputTokens ?? 1500,
    responseFormat: responseFormatFor(RUBRIC, 10),
  };
}
