import type { z } from 'zod';
import type { DevLmsError } from './errors.js';

/** "field: message; other: message" — the first few zod issues, readable by the person who sent the request. */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((i) => (i.path.length ? `${i.path.join('.')}: ${i.message}` : i.message))
    .join('; ');
}

/** Parses input with a schema, or throws the error `fail` builds from the issues. */
export function parseWith<S extends z.ZodType>(schema: S, input: unknown, fail: (message: string) => DevLmsError): z.infer<S> {
  const parsed = schema.safeParse(input);
  if (!parsed.success) throw fail(describeIssues(parsed.error));
  return parsed.data;
}
