import { z, type ZodError } from 'zod';
import { Invalid } from './errors.js';

/**
 * Validation pieces every layer shares: number bounds the database can hold, and one way to turn a zod error into
 * the field → message map forms show beside their fields.
 */

/** The largest value of a PostgreSQL `integer` column (version numbers, decision counters): 2^31 − 1. */
export const INT4_MAX = 2_147_483_647;

/** A whole number an `integer` column can hold, from a form or query string (an empty field is not 0). */
export const int4 = (message = 'must be a whole number') =>
  z.preprocess((v) => (typeof v === 'string' && v.trim() === '' ? undefined : v), z.coerce.number({ error: message }).int(message).min(0, message).max(INT4_MAX, message));

/**
 * Field → first message, keyed by the issue's path joined with dots (`rubric.2.name`), cut to `depth` segments
 * where a form names its fields by the first one or two; an issue about the whole input goes under `fallback`.
 */
export function fieldsOf(error: ZodError, options: { fallback?: string; depth?: number } = {}): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const issue of error.issues) fields[issue.path.slice(0, options.depth).map(String).join('.') || (options.fallback ?? '_')] ??= issue.message;
  return fields;
}

/**
 * Input parsed at the edge: the typed value, or a 422 whose fields say what to correct (services then take typed
 * input and never see a refused form). `depth: 1` keys a message by its form field; `fallback` names the field for
 * issues about the whole input.
 */
export function parseInput<S extends z.ZodType>(schema: S, raw: unknown, options: { fallback?: string; depth?: number; message?: string } = {}): z.output<S> {
  const parsed = schema.safeParse(raw ?? {});
  if (!parsed.success) throw Invalid(fieldsOf(parsed.error, { depth: options.depth ?? 1, fallback: options.fallback }), options.message);
  return parsed.data;
}
