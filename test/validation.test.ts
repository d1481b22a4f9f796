import { describe, expect, it } from '@jest/globals';
import { z } from 'zod';
import { fieldsOf, int4, INT4_MAX } from '../src/validation.js';

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
});
