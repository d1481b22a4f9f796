import { z } from 'zod';
import { NotFound } from '../errors.js';

const id = z.coerce.number().int().positive().max(Number.MAX_SAFE_INTEGER);

/** A numeric id from the URL; anything else is a page that does not exist. */
export function idParam(value: unknown, what = 'The page'): number {
  const parsed = id.safeParse(value);
  if (!parsed.success) throw NotFound(what);
  return parsed.data;
}
