import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { sql } from 'drizzle-orm';
import { decryptContent } from '../../src/crypto/content.js';
import type { Page, ToolSession } from '../helpers/lti-browser.js';
import { mintFor } from '../helpers/launches.js';
import { changedTables, changesDuring, snapshot, tablesContaining, type Snapshot } from './snapshot.js';
import { internalsIn, is4xx, MAX_HEADER_BYTES, messageOf, raw, withParam, type RawOptions, type RawPage } from './probe.js';
import { CASES, methodOf, paramsOf, startWorld, type Case, type World, READ_ONLY } from './world.js';

/**
 * Bad input on every route (issue 13): NUL bytes, 1 MB values, more than 1,000 parameters, wrong JSON types,
 * malformed JSON, a truncated multipart body, duplicated parameters, invalid percent-encoding, odd charsets and
 * content encodings; on every route behind a session (the matrix's cases) and on the open LTI routes (login, launch,
 * dynamic registration). Never a 5xx; every refusal a 4xx with a message a person can read and no stack trace,
 * file, exception class or SQL, with nothing stored; no answer with headers too large for a client to read.
 *
 * Malformed bodies and values of the wrong JSON type must be refused. Some input has a defined reading instead,
 * and is checked for that reading: NUL bytes are removed where the request comes in (src/http/input.ts); a field
 * sent twice (or as a list) is refused or its first value used (src/routes/prompts.schema.ts formText), never the
 * two joined; an invalid percent-escape (`%ZZ`, `%C0%AF`) is read as text, as browsers' form decoding does; a 1 MB
 * value is refused or, in a field the route does not read, ignored — never stored. Read-only routes (GET pages,
 * previews) may answer a bad filter with their default view (2xx) rather than a 4xx.
 */


const MB = 1024 * 1024;
const NUL = 'a\u0000b';
const HUGE_MARK = 'HUGE-VALUE-';
const HUGE = HUGE_MARK + 'x'.repeat(MB);
const DUP = 'DUPLICATE-SECOND-VALUE';
/** Query parameter names the GET pages read (filters, paging, editor choices). */
const QUERY_NAMES = ['page', 'pageSize', 'status', 'task', 'course', 'instructor', 'priority', 'sort', 'from', 'to', 'month', 'template', 'version', 'created', 'flag', 'scoreMin', 'confidenceBelow'];

/** A 4xx answer a person can act on: an error page or fragment, a form shown again with its message, or JSON. */
function readable(page: Page): boolean {
  if ((page.headers.get('content-type') ?? '').includes('json')) {
    try {
      const m = page.json<{ error?: { message?: unknown } }>().error?.message;
      return typeof m === 'string' && m.length > 10;
    } catch {
      return false;
    }
  }
  return /class="error-message"|role="alert"|class="field-error"|aria-invalid="true"/.test(page.html) && messageOf(page).length > 20;
}

/**
 * One bad request. `refuse`: a 4xx, nothing stored (on a read-only route: no 5xx, nothing stored). `lenient`: input
 * with a defined reading (NUL removed, first of two values, a percent-escape read as text, a field the route does
 * not read): no 5xx, a readable message if refused, nothing stored when refused, and `marker` nowhere in the
 * database when taken (a 1 MB value, the second of two values).
 */
interface Probe {
  name: string;
  send(path: string): Promise<RawPage>;
  kind: 'refuse' | 'lenient';
  marker?: string;
}

describe('bad input', () => {
  let world: World;
  let deepLinking: ToolSession;

  beforeAll(async () => {
    // The emulator answers the sample tests a taken probe of the prompt bench makes.
    world = await startWorld({ emulator: true });
    deepLinking = await world.stack.browser().launch(world.stack.devlmsUrl, 'instructor', { message: 'deep_linking' });
  }, 180_000);
  afterAll(async () => {
    await world?.close();
  });

  const sessionFor = (c: Case): ToolSession => (c.deepLinkingOnly ? deepLinking : world.sessions[c.allowed[0]!]);

  const form = (fields: Record<string, string | string[]>) => {
    const p = new URLSearchParams();
    for (const [k, v] of Object.entries(fields)) for (const one of Array.isArray(v) ? v : [v]) p.append(k, one);
    return p.toString();
  };
  const asForm = (fields: Record<string, string | string[]>): RawOptions => ({ body: form(fields), contentType: 'application/x-www-form-urlencoded' });
  const asJson = (body: unknown): RawOptions => ({ body: JSON.stringify(body), contentType: 'application/json' });

  /** The fields a case's sample body has (what the route reads). */
  const fieldsOf = (c: Case): string[] => Object.keys((c.json ?? c.form ?? {}) as object);

  /** Bad input for a route that takes a body: parser-level garbage, then each field of its sample body. */
  function bodyProbes(c: Case, session: ToolSession): Probe[] {
    const method = methodOf(c);
    const send = (o: RawOptions) => (path: string) => raw(session, path, { method, htmx: c.json === undefined, ...o });
    // Every route's body goes through the same parsers: these are refused before any route sees them.
    const sample = { probe: '1', ...(c.form ?? {}) };
    const refuse = (name: string, o: RawOptions): Probe => ({ name, send: send(o), kind: 'refuse' });
    const probes: Probe[] = [
      refuse('more than 1,000 form parameters', asForm({ ...sample, ...Object.fromEntries(Array.from({ length: 1200 }, (_, i) => [`p${i}`, 'x'])) })),
      refuse('malformed JSON', { body: '{"a": [1, 2', contentType: 'application/json' }),
      refuse('JSON that is not an object or array (a bare string)', { body: '"text"', contentType: 'application/json' }),
      refuse('a 3 MB body', asForm({ ...sample, pad: 'x'.repeat(3 * MB) })),
      refuse('a charset the form parser does not read (koi8-r)', { body: form(sample), contentType: 'application/x-www-form-urlencoded; charset=koi8-r' }),
      refuse('Content-Encoding: gzip on a body that is not gzip', { body: form(sample), contentType: 'application/x-www-form-urlencoded', headers: { 'content-encoding': 'gzip' } }),
      refuse('Content-Encoding: br on a body that is not brotli', { body: JSON.stringify(c.json ?? sample), contentType: 'application/json', headers: { 'content-encoding': 'br' } }),
    ];
    const fields = fieldsOf(c);
    if (!fields.length) return probes;
    // A route that reads its body must refuse one that is not an object of fields.
    probes.push(refuse('a JSON array nested 20,000 deep instead of the fields', { body: `${'['.repeat(20_000)}${']'.repeat(20_000)}`, contentType: 'application/json' }));
    const base = (c.json ?? c.form) as Record<string, unknown>;
    for (const k of fields) {
      const original = base[k];
      const jsonWith = (v: unknown) => send(asJson({ ...base, [k]: v }));
      const formWith = (v: string) => send(asForm({ ...(c.form ?? {}), [k]: v }));
      const withValue = (v: string) => (c.json !== undefined ? jsonWith(v) : formWith(v));
      if (typeof original === 'string') {
        probes.push({ name: `NUL in "${k}"`, send: withValue(NUL), kind: 'lenient' });
        probes.push({ name: `1 MB in "${k}"`, send: withValue(HUGE), kind: 'lenient', marker: HUGE_MARK });
      }
      const wrongTypes: Array<[string, unknown]> = [
        [typeof original === 'number' ? 'a string' : 'a number', typeof original === 'number' ? String(original) : 12345],
        ['an object', { a: 1 }],
        ['null', null],
        // A boolean field's wrong type is a string that reads like one.
        typeof original === 'boolean' ? ['a string', String(original)] : ['a boolean', true],
      ];
      // A list where the API wants one value (forms send lists for repeated fields: see the lenient ones below).
      if (c.json !== undefined && !Array.isArray(original)) wrongTypes.push(['an array', [original ?? 'x', 'y']]);
      for (const [what, v] of wrongTypes) probes.push({ name: `JSON with ${what} for "${k}"`, send: jsonWith(v), kind: 'refuse' });
    }
    for (const k of Object.keys(c.form ?? {})) {
      const others = form(Object.fromEntries(Object.entries(c.form!).filter(([n]) => n !== k)));
      const amp = others ? '&' : '';
      const raw = (body: string, contentType = 'application/x-www-form-urlencoded') => send({ body, contentType });
      const key = encodeURIComponent(k);
      probes.push({ name: `"${k}" twice`, send: raw(`${others}${amp}${key}=${encodeURIComponent(c.form![k]!)}&${key}=${DUP}`), kind: 'lenient', marker: DUP });
      probes.push({ name: `"${k}" as a JSON list`, send: raw(JSON.stringify({ ...c.form, [k]: [c.form![k], DUP] }), 'application/json'), kind: 'lenient', marker: DUP });
      probes.push({ name: `"${k}" with an invalid percent-escape (%ZZ)`, send: raw(`${others}${amp}${key}=%ZZ`), kind: 'lenient' });
      probes.push({ name: `"${k}" with overlong UTF-8 (%C0%AF%FF)`, send: raw(`${others}${amp}${key}=%C0%AF%FF`), kind: 'lenient' });
    }
    return probes;
  }

  const check = (name: string, res: RawPage, mustRefuse: boolean, problems: string[]) => {
    if (res.headerBytes > MAX_HEADER_BYTES) problems.push(`${name}: ${res.status} with ${Math.round(res.headerBytes / 1024)} KB of response headers (${[...res.headers.keys()].join(', ')}): clients and proxies cannot read it`);
    if (res.status >= 500) problems.push(`${name}: ${res.status}`);
    else if (mustRefuse && !is4xx(res.status)) problems.push(`${name}: ${res.status}, expected a 4xx`);
    else if (is4xx(res.status) && res.status !== 405 && !readable(res)) problems.push(`${name}: ${res.status} without a readable message: ${messageOf(res).slice(-160)}`);
    for (const x of internalsIn(res.html)) problems.push(`${name}: shows internals (${x}): ${messageOf(res).slice(0, 200)}`);
  };

  /**
   * Runs a route's probes, each between two snapshots: a refused probe must store nothing; a taken one is judged by
   * its kind (a `refuse` probe must not be taken on a route that stores; a `lenient` one must not store its marker).
   */
  async function runProbes(probes: Probe[], path: (renew: boolean) => Promise<string>, readOnly: boolean, problems: string[]): Promise<void> {
    const pool = world.stack.db.pool;
    let renew = false;
    let before: Snapshot | undefined;
    for (const p of probes) {
      const target = await path(renew);
      // A fresh record changes the database: only then is the last probe's "after" no longer this one's "before".
      if (renew || !before) before = await snapshot(pool);
      const res = await p.send(target);
      const after = await snapshot(pool);
      const stored = changedTables(before, after);
      before = after;
      renew = res.status < 400;
      check(p.name, res, p.kind === 'refuse' && !readOnly, problems);
      if (res.status >= 400 || readOnly) {
        if (stored.length) problems.push(`${p.name}: ${res.status}, but stored (${stored.join('; ')})`);
      } else if (p.kind === 'refuse') {
        problems.push(`${p.name}: taken${stored.length ? `, stored (${stored.join('; ')})` : ', nothing stored'}`);
      } else if (p.marker) {
        const where = [...(await tablesContaining(pool, p.marker)), ...(await submissionTextsContaining(p.marker)).map((id) => `submission ${id}`)];
        if (where.length) problems.push(`${p.name}: ${res.status}, and "${p.marker}…" was stored in ${where.join(', ')}`);
      }
    }
  }

  const STATE_CASES = CASES.filter((c) => methodOf(c) !== 'GET');
  const GET_CASES = CASES.filter((c) => methodOf(c) === 'GET');

  describe.each(STATE_CASES.map((c) => [c.route, c] as const))('%s', (_route, c) => {
    it('malformed bodies and wrong JSON types are refused with a readable 4xx; NUL, 1 MB, repeated fields and bad escapes never fail, store nothing when refused and never store the 1 MB or second value', async () => {
      const session = sessionFor(c);
      let values = await world.values(c);
      const problems: string[] = [];
      // A taken probe may use a record up (a batch sent, a budget removed): the next probe gets a fresh one.
      const path = async (renew: boolean) => {
        if (renew && c.fresh) values = await world.values(c);
        if (renew && c.route === 'POST /admin/platforms/deployments/remove') await session.post('/admin/platforms/deployments', c.form!, { htmx: true });
        return c.path(values);
      };
      await runProbes(bodyProbes(c, session), path, READ_ONLY.has(c.route), problems);
      expect(problems).toEqual([]);
    }, 120_000);
  });

  /** Decrypted submission texts holding `needle` (content is encrypted at rest, so the table search cannot see it). */
  async function submissionTextsContaining(needle: string): Promise<number[]> {
    const rows = await world.stack.db.db.execute<{ id: number; task_id: number; student_id: number; attempt: number; content: Buffer | null }>(
      sql`select id, task_id, student_id, attempt, content from submissions where content is not null`,
    );
    return rows.rows
      .filter((r) => decryptContent(world.stack.config.encryptionKey, r.content!, { taskId: Number(r.task_id), studentId: Number(r.student_id), attempt: r.attempt }).includes(needle))
      .map((r) => Number(r.id));
  }

  describe.each(GET_CASES.map((c) => [c.route, c] as const))('%s', (_route, c) => {
    it('bad query strings (NUL, 12 KB, duplicates, invalid escapes, arrays) and bad ids in the path: never a 5xx, bad ids a readable 4xx, nothing changed', async () => {
      const session = sessionFor(c);
      const path = c.path(await world.values(c, false));
      const [pathname, query = ''] = path.split('?');
      const sep = `${pathname}?${query ? `${query}&` : ''}`;
      const problems: string[] = [];
      const changed = await changesDuring(world.stack.db.pool, async () => {
        const all = (v: string) => QUERY_NAMES.map((n) => `${n}=${v}`).join('&');
        const probes: Array<[string, string]> = [
          ['NUL in every filter', `${sep}${all('a%00b')}`],
          ['every filter twice', `${sep}${all('1')}&${all('2')}`],
          ['every filter as an array', `${sep}${QUERY_NAMES.map((n) => `${n}[]=1&${n}[x]=2`).join('&')}`],
          ['invalid percent-escapes in every filter', `${sep}${all('%ZZ')}&${QUERY_NAMES.map((n) => `${n}2=%C0%AF`).join('&')}`],
          ['more than 1,000 query parameters', `${sep}${Array.from({ length: 1100 }, (_, i) => `q${i}=1`).join('&')}`],
          ...QUERY_NAMES.slice(0, 8).map((n): [string, string] => [`12 KB in "${n}"`, `${sep}${n}=${'9'.repeat(12_000)}`]),
        ];
        for (const [name, p] of probes) check(name, await raw(session, p, { htmx: false }), false, problems);
        for (const param of paramsOf(c)) {
          for (const [name, v] of [
            ['NUL', 'a%00b'],
            ['an invalid percent-escape', '%ZZ'],
            ['overlong UTF-8', '%C0%AF'],
            ['a lone surrogate', '%ED%A0%80'],
            ['12 KB of digits', '9'.repeat(12_000)],
          ]) {
            check(`:${param} with ${name}`, await raw(session, withParam(c, path, param, v!), { htmx: false }), true, problems);
          }
        }
      });
      expect(problems).toEqual([]);
      expect(changed).toEqual([]);
    });
  });

  it('ids in the path of state-changing routes: NUL, invalid percent-escapes, overlong numbers → a readable 4xx, nothing changed', async () => {
    const problems: string[] = [];
    const changed = await changesDuring(world.stack.db.pool, async () => {
      for (const c of STATE_CASES.filter((x) => paramsOf(x).length)) {
        const session = sessionFor(c);
        const path = c.path(await world.values(c, false));
        for (const param of paramsOf(c)) {
          for (const v of ['a%00b', '%ZZ', '%C0%AF', '9'.repeat(400)]) {
            const body = c.json !== undefined ? asJson(c.json) : asForm(c.form ?? {});
            check(`${c.route} :${param}=${v.slice(0, 12)}`, await raw(session, withParam(c, path, param, v), { method: methodOf(c), htmx: c.json === undefined, ...body }), true, problems);
          }
        }
      }
    });
    expect(problems).toEqual([]);
    expect(changed).toEqual([]);
  });

  describe('the submission upload', () => {
    const taskPath = () => `/student/tasks/${world.ctx.home.taskId}/submissions`;
    const multipart = (parts: string[], boundary: string) => ({ body: parts.join(''), contentType: `multipart/form-data; boundary=${boundary}` });
    const part = (boundary: string, name: string, value: string, filename?: string) =>
      `--${boundary}\r\ncontent-disposition: form-data; name="${name}"${filename ? `; filename="${filename}"\r\ncontent-type: text/plain` : ''}\r\n\r\n${value}\r\n`;

    it('a truncated multipart body, a body without its closing boundary, and a NUL in the file: a readable 4xx, nothing stored', async () => {
      const session = world.sessions.student;
      const c = CASES.find((x) => x.route === 'POST /student/tasks/:taskId/submissions')!;
      await world.values(c); // room for one more attempt
      const b = `----probe${randomBytes(6).toString('hex')}`;
      const full = part(b, '_csrf', session.csrf) + part(b, 'file', 'Essay text. '.repeat(200), 'essay.txt');
      const problems: string[] = [];
      const changed = await changesDuring(world.stack.db.pool, async () => {
        const probes: Array<[string, RawOptions]> = [
          ['cut in the middle of the file', multipart([full.slice(0, full.length - 700)], b)],
          ['without the closing boundary', multipart([full], b)],
          ['a boundary that never comes', multipart([`--${b}x\r\ncontent-disposition: form-data; name="text"\r\n\r\nabc`], b)],
          ['no boundary parameter', { body: full, contentType: 'multipart/form-data' }],
          ['a header line without its end', multipart([`--${b}\r\ncontent-disposition: form-data; name="te`], b)],
          ['NUL bytes in the uploaded file', multipart([part(b, '_csrf', session.csrf), part(b, 'file', `one\u0000two\u0000`, 'nul.txt'), `--${b}--\r\n`], b)],
          ['two files', multipart([part(b, '_csrf', session.csrf), part(b, 'file', 'a', 'a.txt'), part(b, 'file', 'b', 'b.txt'), `--${b}--\r\n`], b)],
          ['a file in another field', multipart([part(b, '_csrf', session.csrf), part(b, 'attachment', 'a', 'a.txt'), `--${b}--\r\n`], b)],
        ];
        for (const [name, o] of probes) check(name, await raw(session, taskPath(), { method: 'POST', csrf: false, htmx: true, ...o }), true, problems);
      });
      expect(problems).toEqual([]);
      expect(changed).toEqual([]);

      // Positive control: the same multipart post, complete, is stored.
      const ok = await raw(session, taskPath(), { method: 'POST', csrf: false, htmx: true, ...multipart([full, `--${b}--\r\n`], b) });
      expect(ok.status).toBe(201);
    });

    it('NUL bytes typed into a multipart submission are removed, not stored and not a 5xx', async () => {
      const session = world.sessions.student;
      const c = CASES.find((x) => x.route === 'POST /student/tasks/:taskId/submissions')!;
      await world.values(c);
      const b = `----probe${randomBytes(6).toString('hex')}`;
      const res = await raw(session, taskPath(), { method: 'POST', csrf: false, htmx: true, ...multipart([part(b, '_csrf', session.csrf), part(b, 'text', `NUL${NUL}TYPED`), `--${b}--\r\n`], b) });
      expect(res.status).toBe(201);
      expect(await submissionTextsContaining('NULabTYPED')).toHaveLength(1);
      expect(await submissionTextsContaining('\u0000')).toEqual([]);
    });
  });

  describe('registration invites', () => {
    it('work without htmx: a full page with the link (a NUL in the note removed); a too long note is a 4xx page with its message', async () => {
      const admin = world.sessions.administrator;
      for (const note of ['Plain form', `Plain${NUL}form`]) {
        const ok = await raw(admin, '/admin/registration-invites', { method: 'POST', ...asForm({ note, becomes: 'platform' }) });
        expect(ok.status).toBe(200);
        expect(ok.html).toMatch(/^<!doctype html>/i);
        expect(ok.html).toContain('/lti/dynamic-registration/');
      }
      const before = await snapshot(world.stack.db.pool);
      for (const note of ['n'.repeat(201), HUGE]) {
        const res = await raw(admin, '/admin/registration-invites', { method: 'POST', ...asForm({ note, becomes: 'platform' }) });
        expect(res.status).toBeGreaterThanOrEqual(400);
        expect(res.status).toBeLessThan(500);
        expect(res.html).toMatch(/^<!doctype html>/i);
        expect(readable(res)).toBe(true);
      }
      expect(changedTables(before, await snapshot(world.stack.db.pool))).toEqual([]);
    });
  });

  describe('the open LTI routes', () => {
    /** A genuine login initiation's parameters, as the dev LMS sends them. */
    const loginParams = async (): Promise<Record<string, string>> => {
      const res = await fetch(`${world.stack.devlmsUrl}/__test/launch/student1?task=1`);
      return ((await res.json()) as { params: Record<string, string> }).params;
    };
    /** A request without a session (the open routes), with the given cookies. */
    const open = (path: string, o: RawOptions & { cookie?: string } = {}): Promise<RawPage> =>
      raw({ toolOrigin: world.stack.toolUrl, ltik: '', csrf: '', browser: { jar: { header: () => o.cookie ?? '' } } } as unknown as ToolSession, path, { auth: false, csrf: false, ...o });

    it('login initiation (GET and POST): bad parameters are a readable 4xx (NUL removed; opaque hints passed on to the LMS), never a 5xx', async () => {
      const params = await loginParams();
      const problems: string[] = [];
      // Hints the tool passes to the LMS unread (the LMS decides); everything the tool compares must be refused.
      const opaque = new Set(['login_hint', 'lti_message_hint']);
      const probe = async (name: string, res: RawPage, kind: 'refuse' | 'lenient' | 'hint') => {
        const redirected = res.status === 302 || res.status === 303;
        if (kind === 'lenient' || (kind === 'hint' && redirected)) check(name, res, false, problems);
        else check(name, res, true, problems);
      };
      for (const k of Object.keys(params)) {
        const big = opaque.has(k) ? 'hint' : 'refuse';
        await probe(`GET ${k} with NUL`, await open(`/lti/login?${form({ ...params, [k]: `${params[k]}\u0000` })}`), 'lenient');
        await probe(`GET ${k} of 6 KB`, await open(`/lti/login?${form({ ...params, [k]: 'x'.repeat(6_000) })}`), big);
        await probe(`POST ${k} of 1 MB`, await open('/lti/login', { method: 'POST', ...asForm({ ...params, [k]: HUGE }) }), big);
        await probe(`POST ${k} as an object (JSON)`, await open('/lti/login', { method: 'POST', ...asJson({ ...params, [k]: { a: 1 } }) }), 'refuse');
        await probe(`POST ${k} as a list (JSON)`, await open('/lti/login', { method: 'POST', ...asJson({ ...params, [k]: [params[k], 'y'] }) }), 'lenient');
        await probe(`GET ${k} twice`, await open(`/lti/login?${form({ ...params, [k]: [params[k]!, DUP] })}`), 'lenient');
        await probe(`GET ${k} as overlong UTF-8`, await open(`/lti/login?${form({ ...params, [k]: 'v' })}`.replace(`${k}=v`, `${k}=%C0%AF`)), opaque.has(k) ? 'hint' : 'refuse');
      }
      await probe('POST malformed JSON', await open('/lti/login', { method: 'POST', body: '{"iss": ', contentType: 'application/json' }), 'refuse');
      await probe('POST more than 1,000 parameters', await open('/lti/login', { method: 'POST', ...asForm({ ...params, ...Object.fromEntries(Array.from({ length: 1200 }, (_, i) => [`p${i}`, 'x'])) }) }), 'refuse');
      expect(problems).toEqual([]);
      // Positive control: the unchanged parameters redirect to the LMS.
      const ok = await open(`/lti/login?${form(params)}`);
      expect(ok.status).toBe(302);
    });

    it('the launch post: a bad id_token or state is a readable 4xx (NUL removed) and changes nothing', async () => {
      const problems: string[] = [];
      /** A real login at the tool (its state cookie) and the LMS's id_token for it. */
      const begin = async () => {
        const browser = world.stack.browser();
        const { authUrl } = await browser.startLogin(world.stack.devlmsUrl, 'student1', { task: '1' });
        const token = await mintFor(world.stack, authUrl);
        return { token, cookie: browser.jar.header(world.stack.toolUrl) };
      };
      const probes: Array<[string, (t: { id_token: string; state: string }) => RawOptions]> = [
        ['1 MB id_token', (t) => asForm({ id_token: `${t.id_token}${HUGE}`, state: t.state })],
        ['1 MB state', (t) => asForm({ id_token: t.id_token, state: HUGE })],
        ['id_token as an object (JSON)', (t) => asJson({ id_token: { jwt: t.id_token }, state: t.state })],
        ['state as an object (JSON)', (t) => asJson({ id_token: t.id_token, state: { s: t.state } })],
        ['id_token as a number (JSON)', (t) => asJson({ id_token: 12345, state: t.state })],
        ['id_token as null (JSON)', (t) => asJson({ id_token: null, state: t.state })],
        ['malformed JSON', () => ({ body: '{"id_token": "', contentType: 'application/json' })],
        ['more than 1,000 parameters', (t) => asForm({ id_token: t.id_token, state: t.state, ...Object.fromEntries(Array.from({ length: 1200 }, (_, i) => [`p${i}`, 'x'])) })],
        ['overlong UTF-8 before id_token', (t) => ({ body: `id_token=%C0%AF${t.id_token}&state=${t.state}`, contentType: 'application/x-www-form-urlencoded' })],
        ['an invalid percent-escape in state', (t) => ({ body: `id_token=${t.id_token}&state=%ZZ${t.state}`, contentType: 'application/x-www-form-urlencoded' })],
      ];
      const before = await snapshot(world.stack.db.pool);
      for (const [name, build] of probes) {
        const { token, cookie } = await begin();
        check(`launch: ${name}`, await open('/lti/launch', { method: 'POST', cookie, ...build(token) }), true, problems);
      }
      // Input with a defined reading: NUL removed, the first of two values. Never a 5xx.
      const lenient: Array<[string, (t: { id_token: string; state: string }) => RawOptions]> = [
        ['NUL in id_token', (t) => asForm({ id_token: `${t.id_token}\u0000`, state: t.state })],
        ['NUL in state', (t) => asForm({ id_token: t.id_token, state: `${t.state}\u0000` })],
        ['id_token twice', (t) => asForm({ id_token: [t.id_token, t.id_token], state: t.state })],
        ['state twice', (t) => asForm({ id_token: t.id_token, state: [t.state, t.state] })],
      ];
      for (const [name, build] of lenient) {
        const { token, cookie } = await begin();
        check(`launch: ${name}`, await open('/lti/launch', { method: 'POST', cookie, ...build(token) }), false, problems);
      }
      const changed = changedTables(before, await snapshot(world.stack.db.pool));
      // NUL bytes inside the signed claims (names, course and link titles): the LMS's text, not the form's, so the
      // body's NUL removal does not reach it; it must not end in a 5xx either.
      {
        const browser = world.stack.browser();
        const { authUrl } = await browser.startLogin(world.stack.devlmsUrl, 'student1', { task: '1' });
        const token = await mintFor(world.stack, authUrl, {
          set: {
            name: `Amara${NUL}`,
            given_name: `Amara${NUL}`,
            'https://purl.imsglobal.org/spec/lti/claim/context': { id: 'nul-course', label: `L${NUL}`, title: `Course${NUL}` },
            'https://purl.imsglobal.org/spec/lti/claim/resource_link': { id: 'nul-link', title: `Task${NUL}`, description: `D${NUL}` },
          },
        });
        const res = await open('/lti/launch', { method: 'POST', cookie: browser.jar.header(world.stack.toolUrl), ...asForm({ id_token: token.id_token, state: token.state }) });
        check('launch: NUL bytes in the names and titles of the signed claims', res, false, problems);
      }
      expect(problems).toEqual([]);
      expect(changed).toEqual([]);
      // Positive control: the same launch, unchanged, is accepted.
      const { token, cookie } = await begin();
      const ok = await open('/lti/launch', { method: 'POST', cookie, ...asForm({ id_token: token.id_token, state: token.state }) });
      expect([200, 302, 303]).toContain(ok.status);
    });

    it('dynamic registration: bad tokens and configuration URLs are a readable 4xx; no platform is registered', async () => {
      const invite = await world.sessions.administrator.post('/admin/registration-invites', { note: 'bad input', becomes: 'platform' }, { htmx: true });
      const link = invite.html.match(/https?:\/\/[^"<\s]*\/lti\/dynamic-registration\/[^"<\s]+/)?.[0]?.replace(/&amp;/g, '&');
      expect(link).toBeDefined();
      const token = new URL(link!).pathname.split('/').pop()!;
      const config = `${world.stack.devlmsUrl}/.well-known/openid-configuration`;
      const count = async () => Number((await world.stack.db.db.execute<{ n: number }>(sql`select count(*)::int as n from lti_platforms`)).rows[0]!.n);
      const platformsBefore = await count();
      const problems: string[] = [];
      const base = '/lti/dynamic-registration';
      const unknown = 'u'.repeat(43);
      const probes: Array<[string, string]> = [
        ['NUL in the token', `${base}/${token}%00?openid_configuration=${encodeURIComponent(config)}`],
        ['an invalid percent-escape in the token', `${base}/%ZZ${token}?openid_configuration=${encodeURIComponent(config)}`],
        ['overlong UTF-8 in the token', `${base}/%C0%AF?openid_configuration=${encodeURIComponent(config)}`],
        ['a 6 KB token', `${base}/${'t'.repeat(6_000)}?openid_configuration=${encodeURIComponent(config)}`],
        ['no openid_configuration', `${base}/${unknown}`],
        ['NUL in openid_configuration', `${base}/${unknown}?openid_configuration=${encodeURIComponent(`${config}\u0000`)}`],
        ['openid_configuration twice', `${base}/${unknown}?openid_configuration=${encodeURIComponent(config)}&openid_configuration=${encodeURIComponent(config)}`],
        ['openid_configuration as an array', `${base}/${unknown}?openid_configuration[]=${encodeURIComponent(config)}&openid_configuration[x]=1`],
        ['an invalid percent-escape in openid_configuration', `${base}/${unknown}?openid_configuration=%ZZ%C0%AF`],
        ['a 6 KB openid_configuration', `${base}/${unknown}?openid_configuration=${encodeURIComponent(`${config}?${'x'.repeat(6_000)}`)}`],
        ['registration_token twice', `${base}/${unknown}?openid_configuration=${encodeURIComponent(config)}&registration_token=a&registration_token=b`],
      ];
      for (const [name, p] of probes) check(`registration: ${name}`, await open(p), true, problems);
      expect(problems).toEqual([]);
      expect(await count()).toBe(platformsBefore);
      const used = await world.stack.db.db.execute<{ used_at: Date | null }>(sql`select used_at from registration_invites order by id desc limit 1`);
      expect(used.rows[0]!.used_at).toBeNull();
    });
  });
});
