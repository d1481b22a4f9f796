import { afterEach, describe, expect, it, jest } from '@jest/globals';
import { DrizzleQueryError } from 'drizzle-orm/errors';
import { createLogger, redact, withLogContext } from '../src/log.js';

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

/** One event per line: a JSON object for collectors, or a readable line; the request id on both. */
describe('log lines', () => {
  afterEach(() => {
    jest.restoreAllMocks();
  });

  const written = (write: () => void) => {
    const chunks: string[] = [];
    jest.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      chunks.push(String(chunk));
      return true;
    });
    write();
    return chunks;
  };

  it('are one JSON object each, with the request id of the request being handled', () => {
    const logger = createLogger('info', 'llm-assess', 'json');
    const chunks = written(() => {
      withLogContext({ requestId: 'req-12345678' }, () => logger.warn('slow answer', { ms: 1200, msg: 'not the message', level: 'nope' }));
      logger.info('outside a request');
      logger.debug('below the level');
    });
    expect(chunks).toHaveLength(2);
    expect(chunks.every((c) => c.endsWith('\n') && !c.slice(0, -1).includes('\n'))).toBe(true);
    const [inside, outside] = chunks.map((c) => JSON.parse(c) as Record<string, unknown>);
    expect(inside).toEqual({ time: expect.stringMatching(/^\d{4}-\d\d-\d\dT/), level: 'warn', name: 'llm-assess', msg: 'slow answer', ms: 1200, requestId: 'req-12345678' });
    expect(Object.keys(inside!).slice(0, 4)).toEqual(['time', 'level', 'name', 'msg']);
    expect(outside).not.toHaveProperty('requestId');
  });

  it('keep the request id across awaits', async () => {
    const logger = createLogger('info', 'llm-assess', 'json');
    const chunks: string[] = [];
    jest.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      chunks.push(String(chunk));
      return true;
    });
    await withLogContext({ requestId: 'req-async-0001' }, async () => {
      await new Promise((r) => setTimeout(r, 5));
      logger.info('later');
    });
    // Node may write a warning of its own meanwhile.
    expect(JSON.parse(chunks.find((c) => c.startsWith('{'))!)).toMatchObject({ msg: 'later', requestId: 'req-async-0001' });
  });

  it('are readable lines in the pretty format, the request id among the fields', () => {
    const chunks = written(() => withLogContext({ requestId: 'req-12345678' }, () => createLogger('info', 'demo', 'pretty').info('started', { port: 3000 })));
    expect(chunks[0]).toMatch(/^\d{4}-\d\d-\d\dT\S+ INFO {2}\[demo\] started \{"port":3000,"requestId":"req-12345678"\}\n$/);
  });

  it('never throw on fields JSON cannot write', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    const chunks = written(() => {
      createLogger('info', 'llm-assess', 'json').info('odd fields', { cyclic, big: 1n });
      createLogger('info', 'llm-assess', 'pretty').info('odd fields', { big: 1n });
    });
    expect(JSON.parse(chunks[0]!)).toMatchObject({ msg: 'odd fields', fields: '[not serializable]' });
    expect(chunks[1]).toContain('odd fields {"fields":"[not serializable]"}');
  });
});
