import { buildMessages } from '../../grading/messages.js';
import { parseTemplate, type TemplatePart } from '../../grading/template.js';
import type { GradingRequest, JsonSchemaResponseFormat } from '../../providers/provider.js';
import { RESPONSE_FORMAT_NAME } from '../../grading/result.schema.js';
import type { PromptVersionRow } from '../prompts/prompts.repository.js';

/** The parts of a prompt version and task a grading request is made from. */
export interface RequestContext {
  version: Pick<PromptVersionRow, 'template' | 'systemInstructions' | 'graderInstructions' | 'rubric' | 'maxScore' | 'model' | 'temperature' | 'maxOutputTokens' | 'outputSchema'>;
  task: { title: string; description: string };
}

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
 * The request for one submission text (already anonymized when the course asks), exactly as it is estimated at
 * submit time and sent at batch time: the frozen output schema of the version is the response format.
 */
export function gradingRequestFor(ctx: RequestContext, text: string, customId: string): GradingRequest {
  const v = ctx.version;
  const responseFormat: JsonSchemaResponseFormat = { type: 'json_schema', json_schema: { name: RESPONSE_FORMAT_NAME, strict: true, schema: v.outputSchema } };
  return {
    customId,
    model: v.model,
    messages: buildMessages(
      { template: parsed(v.template), systemInstructions: v.systemInstructions, graderInstructions: v.graderInstructions, rubric: v.rubric, maxScore: v.maxScore },
      ctx.task,
      text,
    ),
    temperature: v.temperature,
    maxOutputTokens: v.maxOutputTokens,
    responseFormat,
  };
}
