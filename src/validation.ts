import { z, type ZodError } from 'zod';

/**
 * Validation pieces every layer shares: number bounds the database can hold, and one way to turn a zod error into
 * the field → message map forms show beside their fields.
 */

/** The largest value of a PostgreSQL `integer` column (version numbers, decision counters): 2^31 − 1. */
export const INT4_MAX = 2_147_483_647;

/** A whole number an `integer` column can hold, from a form or query string. */
export const int4 = (message = 'must be a whole number') => z.coerce.number({ error: message }).int(message).min(0, message).max(INT4_MAX, message);

/**
 * Field → first message, keyed by the issue's path joined with dots (`rubric.2.name`); an issue about the whole
 * input goes under `fallback`.
 */
export function fieldsOf(error: ZodError, fallback = '_'): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const issue of error.issues) fields[issue.path.map(String).join('.') || fallback] ??= issue.message;
  return fields;
}
