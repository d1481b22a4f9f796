import { z } from 'zod';
import { fromOpenAIUsage, openAIUsageSchema } from '../pricing.js';
import type { BatchResultLine, ChatAnswer } from '../provider.js';

/** A chat completion response body, as far as grading needs it. */
export const chatCompletionSchema = z.object({
  id: z.string().optional(),
  model: z.string(),
  choices: z
    .array(
      z.object({
        message: z.object({ content: z.string().nullish(), refusal: z.string().nullish() }),
        finish_reason: z.string().nullish(),
      }),
    )
    .min(1),
  usage: openAIUsageSchema,
});

/** Output and error file lines share one shape (platform docs, batch/request-output). */
const resultLineSchema = z.object({
  id: z.string().nullish(),
  custom_id: z.string().min(1),
  response: z
    .object({
      status_code: z.number().int(),
      request_id: z.string().nullish(),
      // Some OpenAI-compatible servers (llama-stack) send the body as a JSON string; OpenAI sends an object.
      body: z.unknown(),
    })
    .nullish(),
  error: z.object({ code: z.string().nullish(), message: z.string().nullish() }).nullish(),
});

const errorBodySchema = z.object({
  error: z.object({ message: z.string().nullish(), code: z.string().nullish(), type: z.string().nullish() }),
});

/** Codes for requests that never ran: nothing is wrong with the request, so it is simply sent again. */
const NOT_RUN_CODES = new Set(['batch_expired', 'batch_cancelled', 'request_timeout']);

export function toChatAnswer(body: z.infer<typeof chatCompletionSchema>): ChatAnswer {
  const choice = body.choices[0];
  return {
    content: choice?.message.content ?? null,
    refusal: choice?.message.refusal ?? null,
    finishReason: choice?.finish_reason ?? 'unknown',
    model: body.model,
    usage: fromOpenAIUsage(body.usage),
  };
}

function bodyObject(body: unknown): unknown {
  if (typeof body !== 'string') return body;
  try {
    return JSON.parse(body);
  } catch {
    return body;
  }
}

function issues(error: z.ZodError): string {
  return error.issues
    .slice(0, 3)
    .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
    .join('; ');
}

/** One line of an OpenAI output or error file → our result line. Never throws: bad lines become "unreadable". */
export function parseResultLine(text: string, lineNumber: number): BatchResultLine {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { kind: 'unreadable', customId: null, lineNumber, message: `Line ${lineNumber} of the result file is not valid JSON.` };
  }
  const line = resultLineSchema.safeParse(json);
  if (!line.success) {
    const customId = typeof (json as { custom_id?: unknown })?.custom_id === 'string' ? (json as { custom_id: string }).custom_id : null;
    return { kind: 'unreadable', customId, lineNumber, message: `Line ${lineNumber} of the result file has an unexpected shape: ${issues(line.error)}` };
  }
  const { custom_id: customId, response, error } = line.data;
  if (response) {
    const requestId = response.request_id ?? null;
    const body = bodyObject(response.body);
    if (response.status_code >= 200 && response.status_code < 300) {
      const parsed = chatCompletionSchema.safeParse(body);
      if (!parsed.success) {
        return { kind: 'unreadable', customId, lineNumber, message: `The answer to ${customId} is not a chat completion: ${issues(parsed.error)}` };
      }
      return { kind: 'succeeded', customId, requestId, lineNumber, ...toChatAnswer(parsed.data) };
    }
    const err = errorBodySchema.safeParse(body);
    return {
      kind: 'errored',
      customId,
      requestId,
      lineNumber,
      statusCode: response.status_code,
      code: err.success ? (err.data.error.code ?? err.data.error.type ?? null) : null,
      message: (err.success ? err.data.error.message : null) ?? `HTTP ${response.status_code} with no error message`,
      retryable: response.status_code === 429 || response.status_code >= 500,
    };
  }
  if (error) {
    const code = error.code ?? 'unknown';
    const message = error.message ?? '(no message)';
    if (NOT_RUN_CODES.has(code)) return { kind: 'not_run', customId, lineNumber, code, message };
    return { kind: 'errored', customId, requestId: null, lineNumber, statusCode: null, code, message, retryable: false };
  }
  return { kind: 'unreadable', customId, lineNumber, message: `Line ${lineNumber} (${customId}) has neither a response nor an error.` };
}
