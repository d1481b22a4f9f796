import { z } from 'zod';
import { NotFound } from '../errors.js';
import { INT4_MAX } from '../validation.js';

const id = z.coerce.number().int().positive().max(Number.MAX_SAFE_INTEGER);

const version = z.coerce.number().int().positive().max(INT4_MAX);

/** A version number (an integer column): anything else, or beyond what the column holds, does not exist. */
export function versionParam(value: unknown, what = 'The version'): number {
  const parsed = version.safeParse(value);
  if (!parsed.success) throw NotFound(what);
  return parsed.data;
}

/** A numeric id from the URL; anything else is a page that does not exist. */
export function idParam(value: unknown, what = 'The page'): number {
  const parsed = id.safeParse(value);
  if (!parsed.success) throw NotFound(what);
  return parsed.data;
}
