import { schemaByInstruction } from './answer-format.js';
import { buildMessages, type ChatMessage, type TaskInput } from './messages.js';
import { RESPONSE_FORMAT_NAME } from './result.schema.js';
import type { RubricCriterion } from './rubric.js';
import { parseTemplate, type TemplatePart } from './template.js';

/** A strict JSON-schema structured-output request. */
export interface JsonSchemaResponseFormat {
  type: 'json_schema';
  json_schema: { name: string; strict: boolean; schema: Record<string, unknown>; description?: string };
}

/** One grading request: one queue item at one attempt, in no provider's wire format (adapters translate it). */
export interface GradingRequest {
  /** From customIdFor(queueItemId, attempt): how a result line finds its queue item. */
  customId: string;
  model: string;
  messages: ChatMessage[];
  temperature: number;
  maxOutputTokens: number;
  /**
   * The strict schema the answer must match, for models with Structured Outputs. Absent for older models, which
   * are sent no response format: the schema is in their system message instead (answer-format.ts).
   */
  responseFormat?: JsonSchemaResponseFormat;
}

/** What a request is made of: a prompt (a saved version, or a draft in the editor) and its task. */
export interface RequestContext {
  version: {
    template: string;
    systemInstructions: string;
    graderInstructions: string;
    rubric: RubricCriterion[];
    maxScore: number;
    model: string;
    temperature: number;
    maxOutputTokens: number;
    /** The response schema frozen with the version (gradingJsonSchema of its rubric). */
    outputSchema: Record<string, unknown>;
  };
  task: TaskInput;
}

/** A submission as it leaves for a provider: its text, whose it is, and whether the course removes identities. */

const parsedTemplates = new Map<string, TemplatePart[]>();

/** Templates are parsed once per distinct text: a batch of 50,000 requests uses one or two. */
function parsed(template: string): TemplatePart[] {
  let parts = parsedTemplates.get(template);
  if (!parts) {
    parts = parseTemplate(template);
    if (parsedTemplates.size > 500) parsedTemplates.clear();
    parsedTemplates.set(template, parts);
  }
  return parts;
}

/**
 * The request for a text as given (a sample in the editor, or a submission already anonymized): the prompt
 * rendered around the delimited text, the frozen output schema as the response format — or, for a model without
 * Structured Outputs, as a block at the end of the system message, with no response format. `language` is the
 * submission's programming language (`languageOfFile` of its stored file name, code-language.ts); every path that
 * estimates, sends or shows a submission's request passes it, so they all build the same request.
 */
export function gradingRequestFor(ctx: RequestContext, text: string, customId: string, language: string | null = null): GradingRequest {
  const v = ctx.version;
  const byInstruction = schemaByInstruction(v.model);
  const request: GradingRequest = {
    customId,
    model: v.model,
    messages: buildMessages(
      {
        template: parsed(v.template),
        systemInstructions: v.systemInstructions,
        graderInstructions: v.graderInstructions,
        rubric: v.rubric,
        maxScore: v.maxScore,
        ...(byInstruction ? { answerSchema: v.outputSchema } : {}),
      },
      ctx.task,
      text,
      language,
    ),
    temperature: v.temperature,
    maxOutputTokens: v.maxOutputTokens,
  };
  if (!byInstruction) request.responseFormat = { type: 'json_schema', json_schema: { name: RESPONSE_FORMAT_NAME, strict: true, schema: v.outputSchema } };
  return request;
}
