import { describe, expect, it } from '@jest/globals';
import { z } from 'zod';
import { HttpError } from '../src/errors.js';
import { fieldsOf, int4, INT4_MAX, parseInput } from '../src/validation.js';

describe('shared validation', () => {
  const schema = z.object({ title: z.string().min(1, 'required'), rubric: z.array(z.object({ name: z.string().min(1, 'name required') })) }).refine(() => false, 'whole form');

  it('maps issues to fields by path, cut to a depth, with a fallback for the whole input', () => {
    const error = schema.safeParse({ title: '', rubric: [{ name: '' }] }).error!;
    expect(fieldsOf(error)).toEqual({ title: 'required', 'rubric.0.name': 'name required', _: 'whole form' });
    expect(fieldsOf(error, { depth: 1 })).toEqual({ title: 'required', rubric: 'name required', _: 'whole form' });
    const whole = schema.safeParse({ title: 'x', rubric: [] }).error!;
    expect(fieldsOf(whole, { fallback: 'form' })).toEqual({ form: 'whole form' });
  });

  it('takes whole numbers an integer column can hold, and nothing beyond', () => {
    expect(int4().parse('2147483647')).toBe(INT4_MAX);
    for (const bad of ['2147483648', '-1', '1.5', 'x', '']) expect(int4('out of range').safeParse(bad).success).toBe(false);
  });

  it('parses input at the edge: the typed value, or a 422 naming each field (by its first path segment)', () => {
    const schema = z.object({ notes: z.string().max(3, 'Too long.'), rubric: z.array(z.object({ name: z.string().min(1, 'Name it.') })) });
    expect(parseInput(schema, { notes: 'ok', rubric: [] })).toEqual({ notes: 'ok', rubric: [] });
    let thrown: unknown;
    try {
      parseInput(schema, { notes: 'long', rubric: [{ name: '' }] }, { message: 'Not saved.' });
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(HttpError);
    expect(thrown).toMatchObject({ status: 422, message: 'Not saved.', fields: { notes: 'Too long.', rubric: 'Name it.' } });
    // Absent input is an empty object, so a schema's own messages (not a crash) say what is missing.
    expect(() => parseInput(z.object({ notes: z.string({ error: 'Write notes.' }) }), undefined)).toThrow(expect.objectContaining({ fields: { notes: 'Write notes.' } }));
  });
});
