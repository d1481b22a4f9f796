import type { z } from 'zod';
import { ApiError, invalidRequest } from '../api-error.js';

/** Cursor pages as the API returns them: {object: "list", data, first_id, last_id, has_more}. */
export function listPage<T extends { id: string }, P>(items: T[], limit: number, after: string | undefined, present: (item: T) => P) {
  let start = 0;
  if (after !== undefined) {
    const i = items.findIndex((item) => item.id === after);
    // An unknown cursor gives an empty page rather than the first one, so a client cannot loop forever.
    start = i === -1 ? items.length : i + 1;
  }
  const page = items.slice(start, start + limit);
  return {
    object: 'list' as const,
    data: page.map(present),
    first_id: page[0]?.id ?? null,
    last_id: page[page.length - 1]?.id ?? null,
    has_more: start + limit < items.length,
  };
}

/** The first problem of a zod parse, worded like the API's parameter errors. */
export function zodProblem(error: z.ZodError): ApiError {
  const issue = error.issues[0];
  const param = issue?.path.join('.') || null;
  const message = issue?.message ?? 'invalid request';
  if (message.startsWith('Missing required parameter')) return invalidRequest(message, param, 'missing_required_parameter');
  return invalidRequest(`Invalid value for '${param ?? 'body'}': ${message}`, param, 'invalid_value');
}

export function rateLimited(message: string): ApiError {
  return new ApiError(429, message, 'requests', null, 'rate_limit_exceeded', { 'retry-after': '1' });
}

export function serverError(): ApiError {
  return new ApiError(500, 'The server had an error while processing your request. Sorry about that!', 'server_error');
}

export function overloaded(): ApiError {
  return new ApiError(503, 'The engine is currently overloaded, please try again later.', 'server_error', null, 'overloaded', { 'retry-after': '1' });
}
