/**
 * How a model is held to the grading schema. Models with Structured Outputs get it as a strict `json_schema`
 * response format. OpenAI refuses that format for older models (gpt-3.5-turbo, gpt-4; gpt-4 has no JSON mode
 * either), so those are sent no response format and told the schema in the system message instead: they answer
 * JSON by instruction, nothing enforces it, and evaluate.ts judges what comes back as it judges every answer.
 *
 * The grading core imports nothing outside itself, so the price file's `structured_outputs: false` models (and
 * their dated snapshots) are listed here; test/grading.answer-format.test.ts holds this list to the price file.
 */
export const SCHEMA_BY_INSTRUCTION_MODELS: ReadonlySet<string> = new Set(['gpt-3.5-turbo', 'gpt-3.5-turbo-0125', 'gpt-4', 'gpt-4-0613']);

/** Whether a model is told the schema in its instructions rather than sent it as a response format. */
export function schemaByInstruction(model: string): boolean {
  return SCHEMA_BY_INSTRUCTION_MODELS.has(model);
}

export const ANSWER_SCHEMA_OPEN = '<response_json_schema>';
export const ANSWER_SCHEMA_CLOSE = '</response_json_schema>';

/**
 * The block appended to the system message of a model without Structured Outputs: the same schema the response
 * format would carry, compact (every token of it is paid on every request), between tags of its own.
 */
export function answerSchemaInstruction(schema: Record<string, unknown>): string {
  return (
    `The response format: exactly one JSON object that matches the JSON schema between ${ANSWER_SCHEMA_OPEN} and ${ANSWER_SCHEMA_CLOSE} ` +
    '(every property it lists and no other, each value of the type and within the range it gives), and nothing else: no text before or after the object.\n' +
    `${ANSWER_SCHEMA_OPEN}\n${JSON.stringify(schema)}\n${ANSWER_SCHEMA_CLOSE}`
  );
}
