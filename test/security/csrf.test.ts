import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Page, ToolSession } from '../helpers/lti-browser.js';
import type { Who } from '../matrix/types.js';
import { changedTables, changesDuring, snapshot } from './snapshot.js';
import { raw, type RawOptions } from './probe.js';
import { CASES, methodOf, patternOf, sendCase, startWorld, type Case, type World, READ_ONLY } from './world.js';

/**
 * CSRF probes (issue 13): every state-changing route of the session router, with every way a token can be
 * missing, forged, borrowed or misplaced. Each is refused (403; a GET or HEAD finds no route, or only the page's
 * read-only twin) and changes nothing in the database; then the same request with the session's own token works,
 * so the refusals are about the token and not about the request.
 */

const STATE_CASES = CASES.filter((c) => methodOf(c) !== 'GET');


interface People {
  /** Another launch of the same person (another ltik, another token). */
  sameUser: ToolSession;
  /** Another person of the same tenant. */
  otherUser: ToolSession;
  /** The same role on another platform. */
  otherTenant: ToolSession;
}

const swapCase = (s: string) => [...s].map((ch) => (ch === ch.toLowerCase() ? ch.toUpperCase() : ch.toLowerCase())).join('');

describe('CSRF', () => {
  let world: World;
  let deepLinking: ToolSession;
  const people = {} as Record<Who, People>;

  beforeAll(async () => {
    world = await startWorld();
    const { stack, sessions, strangers } = world;
    const launch = (login: string, query: Record<string, string> = {}) => stack.browser().launch(stack.devlmsUrl, login, query);
    const other = (label: string) => strangers.find((s) => s.label === label)!.session;
    people.student = { sameUser: await launch('student1', { task: '1' }), otherUser: await launch('student2', { task: '1' }), otherTenant: other('student of another platform') };
    people.instructor = { sameUser: await launch('instructor', { task: '1' }), otherUser: sessions.student, otherTenant: other('instructor of another platform') };
    people.administrator = { sameUser: await launch('admin'), otherUser: sessions.instructor, otherTenant: other('administrator of another platform') };
    deepLinking = await launch('instructor', { message: 'deep_linking' });
  }, 180_000);
  afterAll(async () => {
    await world?.close();
  });

  it('probes every state-changing route of the session router', () => {
    expect(STATE_CASES.map((c) => c.route).sort()).toEqual(world.declaredRoutes().filter((r) => !r.startsWith('GET ')));
  });

  /** The session a case is probed with: its first allowed role, or the deep-linking launch for deep linking. */
  const sessionFor = (c: Case): { session: ToolSession; who: Who } =>
    c.deepLinkingOnly ? { session: deepLinking, who: 'instructor' } : { session: world.sessions[c.allowed[0]!], who: c.allowed[0]! };

  /** The case's body as the page (urlencoded) or an API client (JSON) sends it, with fields added. */
  const bodyOf = (c: Case, add: Record<string, unknown> = {}): Pick<RawOptions, 'body' | 'contentType'> => {
    if (c.json !== undefined) return { body: JSON.stringify({ ...(c.json as object), ...add }), contentType: 'application/json' };
    const form = new URLSearchParams(c.form ?? {});
    for (const [k, v] of Object.entries(add)) for (const one of Array.isArray(v) ? v : [v]) form.append(k, String(one));
    return { body: form.toString(), contentType: 'application/x-www-form-urlencoded' };
  };

  const multipart = (fields: Record<string, string>) => {
    const boundary = `----probe${randomBytes(8).toString('hex')}`;
    const parts = Object.entries(fields).map(([k, v]) => `--${boundary}\r\ncontent-disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`);
    return { body: `${parts.join('')}--${boundary}--\r\n`, contentType: `multipart/form-data; boundary=${boundary}` };
  };

  interface Variant {
    name: string;
    send(): Promise<Page>;
    /** Allowed statuses. */
    expect: number[];
  }

  function variants(c: Case, session: ToolSession, who: Who, path: string): Variant[] {
    const method = methodOf(c);
    const them = people[who];
    const token = session.csrf;
    const fields = Object.fromEntries(Object.entries(c.form ?? {}).map(([k, v]) => [k, String(v)]));
    const noToken = (o: RawOptions = {}) => raw(session, path, { method, htmx: true, csrf: false, ...bodyOf(c), ...o });
    const withHeader = (value: string, o: RawOptions = {}) => noToken({ headers: { 'x-csrf-token': value }, ...o });
    const forged = randomBytes(32).toString('base64url');
    const declared = new Set(world.declaredRoutes());
    const getTwin = declared.has(`GET ${patternOf(c)}`);
    const query = new URLSearchParams({ ...fields, _csrf: token }).toString();
    const sep = path.includes('?') ? '&' : '?';
    const list: Variant[] = [
      { name: 'no token', send: () => noToken(), expect: [403] },
      { name: 'an empty X-CSRF-Token header', send: () => withHeader(''), expect: [403] },
      { name: 'an empty _csrf field', send: () => noToken(bodyOf(c, { _csrf: '' })), expect: [403] },
      { name: 'a made-up token', send: () => withHeader(forged), expect: [403] },
      { name: 'the token cut short by one character', send: () => withHeader(token.slice(0, -1)), expect: [403] },
      { name: 'the token with a character added', send: () => withHeader(`${token}A`), expect: [403] },
      { name: 'the token in swapped letter case', send: () => withHeader(swapCase(token)), expect: [403] },
      { name: 'the token with spaces around it', send: () => noToken(bodyOf(c, { _csrf: ` ${token} ` })), expect: [403] },
      { name: 'the token of another session of the same person', send: () => withHeader(them.sameUser.csrf), expect: [403] },
      { name: 'the token of another person of the same tenant', send: () => withHeader(them.otherUser.csrf), expect: [403] },
      { name: 'the token of another tenant', send: () => withHeader(them.otherTenant.csrf), expect: [403] },
      { name: 'the token of another tenant in the _csrf field', send: () => noToken(bodyOf(c, { _csrf: them.otherTenant.csrf })), expect: [403] },
      { name: 'the token in the query string', send: () => raw(session, `${path}${sep}_csrf=${encodeURIComponent(token)}&csrf=${encodeURIComponent(token)}`, { method, htmx: true, csrf: false, ...bodyOf(c) }), expect: [403] },
      // The session's own token, sent with the launch token (ltik) of another launch of the same person: the token
      // belongs to a launch, not to a person.
      { name: 'a valid token with the ltik of another session of the same person', send: () => withHeader(token, { auth: false, headers: { authorization: `Bearer ${them.sameUser.ltik}`, 'x-csrf-token': token } }), expect: [403] },
      { name: 'a valid token with the ltik of another person', send: () => withHeader(token, { auth: false, headers: { authorization: `Bearer ${them.otherUser.ltik}`, 'x-csrf-token': token } }), expect: [401, 403] },
      { name: '_csrf as an array (the valid token twice)', send: () => noToken(bodyOf(c, { _csrf: [token, token] })), expect: [403] },
      { name: 'the valid token in a header of another name', send: () => noToken({ headers: { 'x-xsrf-token': token, 'csrf-token': token, 'x-csrftoken': token, 'x-csrf': token } }), expect: [403] },
      { name: 'the valid token as a cookie', send: () => noToken({ cookies: false, headers: { cookie: `${session.browser.jar.header(session.toolOrigin)}; _csrf=${token}; csrf-token=${token}` } }), expect: [403] },
      // A cross-site form cannot set headers: the ltik in the URL, the body in any encoding a form can send.
      { name: 'a cross-site form post (ltik in the URL, no header)', send: () => raw(session, `${path}${sep}ltik=${encodeURIComponent(session.ltik)}`, { method, auth: false, csrf: false, ...bodyOf(c) }), expect: [403] },
      { name: 'a text/plain body with a made-up _csrf', send: () => noToken({ body: `${new URLSearchParams({ ...fields, _csrf: forged })}`, contentType: 'text/plain' }), expect: [403] },
      { name: 'JSON sent as text/plain (no preflight) without a token', send: () => noToken({ body: JSON.stringify({ ...(c.json as object | undefined), ...fields }), contentType: 'text/plain' }), expect: [403] },
      { name: 'a multipart body with a made-up _csrf', send: () => noToken(multipart({ ...fields, _csrf: forged })), expect: [403] },
      { name: 'a multipart body without _csrf', send: () => noToken(multipart(fields)), expect: [403] },
      // Wrong methods carry the token and the fields in the query: they must find no route (or only the page's
      // read-only twin) and change nothing.
      { name: 'GET with the fields and the token in the query', send: () => raw(session, `${path}${sep}${query}`, { method: 'GET', htmx: true }), expect: getTwin ? [200, 400, 404, 422] : [404, 405] },
      { name: 'HEAD with the fields and the token in the query', send: () => raw(session, `${path}${sep}${query}`, { method: 'HEAD', htmx: true }), expect: getTwin ? [200, 400, 404, 422] : [404, 405] },
    ];
    return list;
  }

  describe.each(STATE_CASES.map((c) => [c.route, c] as const))('%s', (_route, c) => {
    it('refuses every missing, forged, borrowed or misplaced token and changes nothing; the valid token works', async () => {
      const { session, who } = sessionFor(c);
      const values = await world.values(c);
      const path = c.path(values);
      const problems: string[] = [];
      const changed = await changesDuring(world.stack.db.pool, async () => {
        for (const v of variants(c, session, who, path)) {
          const res = await v.send();
          if (!v.expect.includes(res.status)) problems.push(`${v.name}: ${res.status}, expected ${v.expect.join(' or ')}`);
          else if (res.status === 403 && !/security token/i.test(res.html)) problems.push(`${v.name}: 403 without the security-token message`);
        }
      });
      expect(problems).toEqual([]);
      expect(changed).toEqual([]);

      // Positive control: the same request with the session's own token (header) does what the route does.
      const before = await snapshot(world.stack.db.pool);
      const ok = await sendCase(session, c, values);
      expect(ok.status).toBe(c.okStatus ?? 200);
      const effect = changedTables(before, await snapshot(world.stack.db.pool));
      if (READ_ONLY.has(c.route)) expect(effect).toEqual([]);
      else expect(effect).not.toEqual([]);
    });

    if (c.form) {
      it('accepts the valid token in the hidden _csrf field of a plain form post', async () => {
        const { session } = sessionFor(c);
        const values = await world.values(c);
        // The deployment the matrix's sample removes went with the first success: allow it again.
        if (c.route === 'POST /admin/platforms/deployments/remove') expect((await session.post('/admin/platforms/deployments', c.form!, { htmx: true })).status).toBe(200);
        const res = await raw(session, c.path(values), { method: methodOf(c), htmx: true, csrf: false, ...bodyOf(c, { _csrf: session.csrf }) });
        expect(res.status).toBe(c.okStatus ?? 200);
      });
    }
  });
});
