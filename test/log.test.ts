import { afterEach, describe, expect, it, jest } from '@jest/globals';
import { DrizzleQueryError } from 'drizzle-orm/errors';
import { createLogger, redact } from '../src/log.js';

/** Error logs say what failed and where, never the students' text or the values a query carried. */
describe('error logs', () => {
  afterEach(() => {
    jest.restoreAllMocks();
  });

  const logged = (fields: Record<string, unknown>) => {
    const lines: string[] = [];
    jest.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      lines.push(String(chunk));
      return true;
    });
    createLogger('error').error('request failed', fields);
    return lines.join('');
  };

  it('leave out query parameters, row details and quoted values, and keep the query and the codes', () => {
    const pgError = Object.assign(new Error('invalid input syntax for type bigint: "My essay on the Revolution"'), {
      code: '22P02',
      detail: 'Key (email)=(amara.okafor@example.edu) already exists.',
      routine: 'pg_strtoint64_safe',
    });
    const err = new DrizzleQueryError('insert into "submissions" ("content", "student_id") values ($1, $2)', ['The Estates-General met in 1789 …', 42], pgError);
    const line = logged({ reference: 'abc12345', err });
    expect(line).not.toContain('Estates-General');
    expect(line).not.toContain('My essay');
    expect(line).not.toContain('amara.okafor');
    expect(line).toContain('insert into \\"submissions\\" (\\"content\\", \\"student_id\\")');
    expect(line).toContain('22P02');
    expect(line).toContain('pg_strtoint64_safe');
    expect(line).toContain('params: [not logged]');
    expect(line).toContain('abc12345');
  });

  it('keep SQL identifiers in quotes and drop quoted text', () => {
    expect(redact('relation "queue_items" does not exist')).toBe('relation "queue_items" does not exist');
    expect(redact('value too long for "hello world, this is me"')).toBe('value too long for "[not logged]"');
  });
});
