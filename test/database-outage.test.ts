import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startStack, type Stack } from './helpers/stack.js';
import type { ToolSession } from './helpers/lti-browser.js';
import { textOf } from './helpers/html.js';
import type { Logger } from '../src/log.js';

/**
 * PostgreSQL goes away under a running tool (a TCP proxy between them is cut). Every request that needs it must
 * say so — 503 with a reference, the error in the log — and not "your session is not valid": that sends people to
 * relaunch from their LMS over and over, and the operator sees nothing. Once the database is back, the same
 * sessions work again.
 */
describe('a database outage', () => {
  let stack: Stack;
  let student: ToolSession;
  const errors: Array<{ msg: string; fields?: Record<string, unknown> }> = [];
  const logger: Logger = { debug() {}, info() {}, warn() {}, error: (msg, fields) => errors.push({ msg, fields }) };

  beforeAll(async () => {
    stack = await startStack({ proxyDatabase: true, logger });
    student = await stack.browser().launch(stack.devlmsUrl, 'student1', { task: '1' });
  });
  afterAll(async () => {
    await stack?.close();
  });

  const loggedReference = (reference: string) => errors.find((e) => e.fields?.reference === reference);

  it('answers a page of a valid session with 503 and a logged reference, not 401', async () => {
    stack.dbProxy!.cut();
    try {
      const page = await student.get('/student');
      expect(page.status).toBe(503);
      expect(page.headers.get('retry-after')).toBe('30');
      const text = textOf(page.html);
      expect(text).toContain('cannot reach its database right now');
      const reference = /reference ([0-9a-f]{16})/.exec(text)?.[1];
      expect(reference).toBeDefined();
      const entry = loggedReference(reference!);
      expect(entry?.msg).toBe('request failed');
      expect(entry?.fields?.err).toBeInstanceOf(Error);
    } finally {
      stack.dbProxy!.restore();
    }
  });

  it('answers the JSON API with 503 database_unavailable', async () => {
    stack.dbProxy!.cut();
    try {
      const res = await student.get('/api/session');
      expect(res.status).toBe(503);
      expect(res.json<{ error: { code: string; reference: string } }>().error).toEqual(expect.objectContaining({ code: 'database_unavailable', reference: expect.any(String) }));
    } finally {
      stack.dbProxy!.restore();
    }
  });

  it('answers a launch with 503 and stays up', async () => {
    const browser = stack.browser();
    const form = await browser.beginLaunch(stack.devlmsUrl, 'student2', { task: '1' });
    stack.dbProxy!.cut();
    try {
      const page = await browser.finishLaunch(form);
      expect(page.status).toBe(503);
      expect(textOf(page.html)).toContain('cannot reach its database');
    } finally {
      stack.dbProxy!.restore();
    }
  });

  it('works again for the same session once the database is back, and still refuses a bad token with 401', async () => {
    const page = await student.get('/student');
    expect(page.status).toBe(200);
    const forged = await stack.browser().request(`${stack.toolUrl}/student`, { headers: { authorization: 'Bearer not-a-token' } });
    expect(forged.status).toBe(401);
  });
});
