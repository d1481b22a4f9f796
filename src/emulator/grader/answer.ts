import { SUBMISSION_CLOSE, SUBMISSION_OPEN } from '../../grading/messages.js';
import { hexHash, unitHash } from '../hash.js';
import { textOf, type ValidChatRequest } from '../chat/request.js';
import { gradeSubmission } from './grade.js';
import { gradingSpecOf } from './rubric.js';
import { fillSchema } from './schema-fill.js';

/** What the simulated model "means to say" for a request, before faults and token limits are applied. */
export interface IntendedAnswer {
  /** The answer as an object (JSON formats) or text. */
  value: unknown;
  kind: 'grading' | 'json' | 'text';
  /** For grading answers: each criterion's maximum, by id. */
  maxima?: Record<string, number>;
  /** Written inside a ```json fence, as models answering JSON by instruction (no response format) sometimes do. */
  fenced?: boolean;
}

/**
 * How often a JSON answer given by instruction alone comes inside a ```json Markdown fence. gpt-3.5-turbo and
 * gpt-4 do this now and then when a prompt asks for JSON without a response format; 1 in 10 is the emulator's
 * guess, not a measured rate. A response format (json_object, json_schema) never gets a fence.
 */
export const INSTRUCTED_FENCE_RATE = 0.1;

// A JSON schema told in a system message, as clients of models without Structured Outputs send it: one JSON object
// between an opening and closing tag whose name says "schema" (<response_json_schema>…</response_json_schema>).
// Read from the text, as the model would: the emulator does not know how any client builds its prompt.
const SCHEMA_BLOCK = /<([A-Za-z_-]*schema[A-Za-z_-]*)>\s*(\{[\s\S]*\})\s*<\/\1>/i;

/** The JSON schema a system (or developer) message tells the model to answer in, if one does. */
export function instructedSchemaOf(req: ValidChatRequest): Record<string, unknown> | null {
  for (const m of req.messages) {
    if (m.role !== 'system' && m.role !== 'developer') continue;
    const block = SCHEMA_BLOCK.exec(textOf(m))?.[2];
    if (!block) continue;
    try {
      const schema: unknown = JSON.parse(block);
      if (typeof schema === 'object' && schema !== null && !Array.isArray(schema)) return schema as Record<string, unknown>;
    } catch {
      // Not JSON: a model would answer in prose; so does the emulator (below).
    }
  }
  return null;
}

/** The student's text: what sits between the submission tags of the last user message that has them. */
export function submissionText(req: ValidChatRequest): string | null {
  for (const m of [...req.messages].reverse()) {
    if (m.role !== 'user') continue;
    const text = textOf(m);
    const start = text.indexOf(SUBMISSION_OPEN);
    const end = text.lastIndexOf(SUBMISSION_CLOSE);
    if (start !== -1 && end > start) return text.slice(start + SUBMISSION_OPEN.length, end).trim();
  }
  return null;
}

/** A stable key for "the same request": model, messages and response format. */
export function requestKey(req: ValidChatRequest): string {
  return hexHash(32, req.model, JSON.stringify(req.messages), JSON.stringify(req.responseFormat));
}

export function intendedAnswer(req: ValidChatRequest, seed: string): IntendedAnswer {
  const key = requestKey(req);
  const format = req.responseFormat;
  if (format?.type === 'json_schema') return schemaAnswer(req, format.json_schema.schema ?? { type: 'object', properties: {} }, key, seed);
  const told = instructedSchemaOf(req);
  if (told) {
    const answer = schemaAnswer(req, told, key, seed);
    return format?.type === 'json_object' ? answer : { ...answer, fenced: unitHash(seed, 'fence', key) < INSTRUCTED_FENCE_RATE };
  }
  if (format?.type === 'json_object') {
    return { kind: 'json', value: { answer: 'Simulated JSON answer from the llm-assess emulator (demo mode).', request: key.slice(0, 8) } };
  }
  const last = [...req.messages].reverse().find((m) => m.role === 'user');
  const words = last ? textOf(last).split(/\s+/).filter(Boolean).length : 0;
  return {
    kind: 'text',
    value: `This is a simulated answer from the llm-assess emulator (demo mode). Your last message had ${words} words.`,
  };
}

/**
 * An object filling a schema — sent as a json_schema response format, or told in the system message: graded when
 * it is a grading result schema, filled generically otherwise.
 */
function schemaAnswer(req: ValidChatRequest, schema: Record<string, unknown>, key: string, seed: string): IntendedAnswer {
  const prompt = req.messages.map(textOf).join('\n');
  const spec = gradingSpecOf(schema, prompt);
  const generic = fillSchema(schema, key);
  if (!spec) return { kind: 'json', value: generic };
  const submission = submissionText(req) ?? req.messages.filter((m) => m.role === 'user').map(textOf).join('\n');
  const graded = gradeSubmission(spec, submission, seed) as unknown as Record<string, unknown>;
  // Answer exactly the schema's properties, in its order: ours where we have them, generic values otherwise.
  const value = Object.fromEntries(Object.entries(generic as Record<string, unknown>).map(([k, v]) => [k, k in graded ? graded[k] : v]));
  return { kind: 'grading', value, maxima: Object.fromEntries(spec.criteria.map((c) => [c.id, c.maxPoints])) };
}
