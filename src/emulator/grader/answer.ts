import { SUBMISSION_CLOSE, SUBMISSION_OPEN } from '../../grading/messages.js';
import { hexHash } from '../hash.js';
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
  if (format?.type === 'json_schema') {
    const schema = format.json_schema.schema ?? { type: 'object', properties: {} };
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
