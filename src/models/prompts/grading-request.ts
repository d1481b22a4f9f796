import type { Db } from '../../db/db.js';
import type { TaskInput } from '../../grading/messages.js';
import { gradingJsonSchema } from '../../grading/result.schema.js';
import type { RequestContext } from '../batches/grading-request.js';
import type { PromptContent } from './prompt-draft.js';
import { findActiveVersion, type PromptVersionRow } from './prompts.repository.js';

/**
 * Prompts as the grading pipeline takes them. One request builder serves the queue, the editor's preview and its
 * sample tests (gradingRequestFor in models/batches/grading-request.ts), and one answer check serves ingestion and
 * tests (evaluateAnswer in models/assessments/evaluate.ts), so what an instructor previews and tests is exactly
 * what is sent and how it is judged.
 */

/** The prompt version new submissions of a task are graded with; undefined when it has none (or it is archived). */
export function activePromptFor(db: Db, taskId: number): Promise<PromptVersionRow | undefined> {
  return findActiveVersion(db, taskId);
}

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
