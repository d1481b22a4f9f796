import type { TaskInput } from '../../grading/messages.js';
import { gradingJsonSchema } from '../../grading/result.schema.js';
import type { RequestContext } from '../../grading/request.js';
import type { PromptContent } from './prompt-draft.js';

/**
 * Prompts as the grading core takes them. One request builder (src/grading/request.ts) serves the queue, the review
 * page, the editor's preview and its sample tests, and one answer check (src/grading/evaluate.ts) serves ingestion
 * and tests, so what an instructor previews and tests is exactly what is sent and how it is judged.
 */

/**
 * A prompt and its task as the request builder takes them. A saved version carries the schema frozen with it; a
 * draft in the editor gets the one its rubric gives (the same function froze every saved version's).
 */
export function requestContextFor(prompt: PromptContent & { outputSchema?: Record<string, unknown> }, task: TaskInput): RequestContext {
  return {
    version: {
      template: prompt.template,
      systemInstructions: prompt.systemInstructions,
      graderInstructions: prompt.graderInstructions,
      rubric: prompt.rubric,
      maxScore: Number(prompt.maxScore),
      model: prompt.model,
      temperature: Number(prompt.temperature),
      maxOutputTokens: prompt.maxOutputTokens,
      outputSchema: prompt.outputSchema ?? gradingJsonSchema(prompt.rubric, Number(prompt.maxScore)),
    },
    task: { title: task.title, description: task.description },
  };
}
