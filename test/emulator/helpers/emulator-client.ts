import { buildMessages } from '../../../src/grading/messages.js';
import { gradingJsonSchema, responseFormatFor } from '../../../src/grading/result.schema.js';
import type { RubricCriterion } from '../../../src/grading/rubric.js';

/** Plain HTTP against a running emulator: what any OpenAI client sends, with nothing of ours in between. */

export interface HttpResult {
  status: number;
  body: unknown;
  text: string;
  headers: Headers;
}

export const AUTH = { authorization: 'Bearer sk-test-emulator' };

export async function call(baseUrl: string, method: string, path: string, body?: unknown, headers: Record<string, string> = AUTH): Promise<HttpResult> {
  const res = await fetch(`${baseUrl}${path}`, {
    method,
    headers: { ...headers, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let parsed: unknown = null;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = null;
  }
  return { status: res.status, body: parsed, text, headers: res.headers };
}

export async function upload(baseUrl: string, content: string, options: { filename?: string; purpose?: string; extra?: Record<string, string> } = {}): Promise<HttpResult> {
  const form = new FormData();
  if (options.purpose !== '') form.append('purpose', options.purpose ?? 'batch');
  for (const [k, v] of Object.entries(options.extra ?? {})) form.append(k, v);
  form.append('file', new Blob([content], { type: 'application/jsonl' }), options.filename ?? 'requests.jsonl');
  const res = await fetch(`${baseUrl}/files`, { method: 'POST', headers: AUTH, body: form });
  const text = await res.text();
  return { status: res.status, body: JSON.parse(text) as unknown, text, headers: res.headers };
}

export const RUBRIC: RubricCriterion[] = [
  { id: 'thesis', name: 'Thesis', description: 'States a clear, arguable thesis about the causes of the war.', maxPoints: 4 },
  { id: 'evidence', name: 'Evidence', description: 'Supports each claim with historical evidence and cited sources.', maxPoints: 6 },
];

export const TEMPLATE = 'Task: {task_title}\n{task_description}\n\nRubric:\n{task_criteria}\nMaximum score: {max_score}\n\n{student_submission}';

export function gradingBody(submission: string, model = 'gpt-4o-mini', extra: Record<string, unknown> = {}) {
  return {
    model,
    messages: buildMessages(
      { template: TEMPLATE, systemInstructions: 'You are a fair, careful grader.', graderInstructions: '', rubric: RUBRIC, maxScore: 10 },
      { title: 'Causes of the First World War', description: 'Explain the main causes of the war.' },
      submission,
    ),
    max_completion_tokens: 1500,
    response_format: responseFormatFor(RUBRIC, 10),
    ...extra,
  };
}

/**
 * A grading request as the tool sends it to a model without Structured Outputs (gpt-4, gpt-3.5-turbo): no
 * response format, the grading schema told at the end of the system message (src/grading/answer-format.ts).
 */
export function instructedGradingBody(submission: string, model = 'gpt-4', extra: Record<string, unknown> = {}) {
  return {
    model,
    messages: buildMessages(
      { template: TEMPLATE, systemInstructions: 'You are a fair, careful grader.', graderInstructions: '', rubric: RUBRIC, maxScore: 10, answerSchema: gradingJsonSchema(RUBRIC, 10) },
      { title: 'Causes of the First World War', description: 'Explain the main causes of the war.' },
      submission,
    ),
    max_completion_tokens: 1500,
    ...extra,
  };
}

export function submissionFor(i: number): string {
  const paragraphs = [
    'My thesis is that the alliance system turned a regional crisis into a world war.',
    'The evidence for this is strong: historians cite the July Crisis and the mobilisation timetables as sources.',
    'Militarism and the naval race also mattered, as Clark argues in The Sleepwalkers.',
    '- Alliances\n- Militarism\n- Imperialism\n- Nationalism',
  ];
  return paragraphs.slice(0, 1 + (i % paragraphs.length)).join('\n\n') + ` (essay ${i})`;
}

export function requestLine(customId: string, body: unknown, url = '/v1/chat/completions'): string {
  return JSON.stringify({ custom_id: customId, method: 'POST', url, body });
}

export function jsonl(lines: string[]): string {
  return `${lines.join('\n')}\n`;
}

export function parseJsonl(text: string): unknown[] {
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as unknown);
}

const TERMINAL = new Set(['completed', 'failed', 'expired', 'cancelled']);

/** Polls a batch until it is terminal (or the predicate holds); every status seen is returned in order. */
export async function waitForBatch(
  baseUrl: string,
  id: string,
  until: (batch: { status: string }) => boolean = (b) => TERMINAL.has(b.status),
  timeoutMs = 8000,
): Promise<{ last: Record<string, unknown> & { status: string }; seen: Array<Record<string, unknown>> }> {
  const seen: Array<Record<string, unknown>> = [];
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { body } = await call(baseUrl, 'GET', `/batches/${id}`);
    const batch = body as Record<string, unknown> & { status: string };
    seen.push(batch);
    if (until(batch)) return { last: batch, seen };
    if (Date.now() > deadline) throw new Error(`batch ${id} still ${batch.status} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
