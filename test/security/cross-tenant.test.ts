import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { sql } from 'drizzle-orm';
import type { Page } from '../helpers/lti-browser.js';
import { changesDuring } from './snapshot.js';
import { internalsIn, paramValue, withParam } from './probe.js';
import { CASES, leaked, secretsFor, methodOf, paramsOf, patternOf, sendCase, startWorld, type Case, type Stranger, type World } from './world.js';

/**
 * Cross-tenant probes (issue 13): every route that takes an id, asked by people of another course of the same
 * platform and of another platform with the home tenant's ids, with every method; then the ids enumerated (the
 * home ids ± a few, huge, negative, zero, exponent and hex spellings, words) from those people and from the home
 * tenant. Refusals are 404 (403 when the role may not use the route at all), show nothing of the home tenant and
 * change nothing in the database; nothing is ever a 500.
 */

const ID_CASES = CASES.filter((c) => paramsOf(c).length > 0);
const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'];

/** Id spellings to enumerate, besides the home id ± 1..3. Each is put in the URL encoded. */
const ODD_IDS = ['0', '-1', '-0', '+1', '1.5', '1e3', '0x10', '1_000', ' 1', '1 ', '١', '2147483648', '9007199254740993', '9223372036854775807', '9223372036854775808', '99999999999999999999999999', 'Infinity', 'NaN', 'null', 'undefined', 'true', '[]', '{}', 'abc', '1abc', "1'", '1;select 1', '../1', '%00'];
/** The spellings tried on ids in query strings (the pages behind them are heavier: fewer of them). */
const QUERY_IDS = ['0', '-1', '1.5', '1e3', '0x10', '2147483648', '9223372036854775808', '99999999999999999999999999', 'NaN', 'abc', '[]', '%00'];
/** Spellings that cannot name an existing record (safe to send to a state-changing route as the home tenant). */
const NEVER_AN_ID = new Set(['0', '-1', '-0', '1.5', '1_000', '9007199254740993', '9223372036854775808', '99999999999999999999999999', 'Infinity', 'NaN', 'null', 'undefined', 'true', '[]', '{}', 'abc', '1abc', "1'", '1;select 1', '../1', '%00']);

describe('cross-tenant ids', () => {
  let world: World;

  beforeAll(async () => {
    world = await startWorld();
  }, 180_000);
  afterAll(async () => {
    await world?.close();
  });

  it('probes every route that takes an id, and every such route is tenant-scoped in the matrix', () => {
    const declared = world.declaredRoutes().filter((r) => r.includes('/:'));
    expect(ID_CASES.map((c) => c.route).sort()).toEqual(declared);
    expect(ID_CASES.filter((c) => !c.tenantScoped).map((c) => c.route)).toEqual([]);
  });

  /** Sends a request with the case's body (when the method takes one), as the page or API client would. */
  const send = (s: Stranger['session'], c: Case, method: string, path: string): Promise<Page> => {
    if (method === methodOf(c)) return sendCase(s, { ...c, path: () => path }, {});
    const body = method === 'GET' || method === 'HEAD' ? {} : c.json !== undefined ? { json: c.json } : c.form ? { form: c.form, htmx: true } : {};
    return s.request(path, { method, ...body });
  };

  describe.each(ID_CASES.map((c) => [c.route, c] as const))('%s', (_route, c) => {
    it('asked from another course and another platform with the home ids, with every method: refused, nothing shown, nothing changed', async () => {
      const values = await world.values(c);
      const path = c.path(values);
      const declaredMethods = new Set(world.declaredRoutes().filter((r) => r.endsWith(` ${patternOf(c)}`)).map((r) => r.split(' ')[0]));
      const extra = METHODS.filter((m) => !declaredMethods.has(m) && !(m === 'HEAD' && declaredMethods.has('GET')));
      const problems: string[] = [];
      const changed = await changesDuring(world.stack.db.pool, async () => {
        for (const stranger of world.strangers) {
          const own = await send(stranger.session, c, methodOf(c), path);
          const expected = c.allowed.includes(stranger.who) ? 404 : 403;
          if (own.status !== expected) problems.push(`${stranger.label}: ${methodOf(c)} → ${own.status}, expected ${expected}`);
          for (const s of leaked(own.html, world.homeSecrets)) problems.push(`${stranger.label}: ${methodOf(c)} shows "${s}"`);
          if (methodOf(c) === 'GET') {
            const head = await send(stranger.session, c, 'HEAD', path);
            if (head.status !== expected) problems.push(`${stranger.label}: HEAD → ${head.status}, expected ${expected}`);
          }
          for (const m of extra) {
            const res = await send(stranger.session, c, m, path);
            if (![403, 404, 405].includes(res.status)) problems.push(`${stranger.label}: ${m} → ${res.status}, expected 403, 404 or 405`);
            for (const s of leaked(res.html, world.homeSecrets)) problems.push(`${stranger.label}: ${m} shows "${s}"`);
          }
        }
      });
      expect(problems).toEqual([]);
      expect(changed).toEqual([]);

      // Positive control: the same ids work for the home tenant, so the refusals above are about the tenant.
      const who = c.allowed[0]!;
      const home = await sendCase(world.sessions[who], c, values);
      expect(home.status).toBe(c.okStatus ?? 200);
    });

    it('enumerated ids (± a few, huge, negative, zero, 1e3, 0x10, words): never a 500, nothing of the home tenant shown to others', async () => {
      const values = await world.values(c, false);
      const path = c.path(values);
      const problems: string[] = [];
      const strangers = world.strangers.filter((s) => c.allowed.includes(s.who));
      const homeSession = world.sessions[c.allowed[0]!];
      const readOnly = methodOf(c) === 'GET';
      for (const param of paramsOf(c)) {
        const home = Number(paramValue(c, path, param));
        const near = Number.isSafeInteger(home) ? [-3, -2, -1, 1, 2, 3].map((d) => String(home + d)).filter((v) => Number(v) > 0) : [];
        const spellings = [...near, ...ODD_IDS];
        for (const v of spellings) {
          const target = withParam(c, path, param, encodeURIComponent(v));
          for (const s of strangers) {
            const res = await send(s.session, c, methodOf(c), target);
            if (res.status >= 500) problems.push(`${s.label}: :${param}=${JSON.stringify(v)} → ${res.status}`);
            // Another tenant's own record may answer 200; nothing of the home tenant's may show, whatever the status.
            const secrets = secretsFor(res.status, world.homeSecrets);
            for (const x of leaked(res.html, secrets)) problems.push(`${s.label}: :${param}=${JSON.stringify(v)} shows "${x}"`);
            for (const x of internalsIn(res.html)) problems.push(`${s.label}: :${param}=${JSON.stringify(v)} shows internals (${x})`);
          }
          if (readOnly || NEVER_AN_ID.has(v)) {
            const res = await send(homeSession, c, methodOf(c), target);
            if (res.status >= 500) problems.push(`home ${c.allowed[0]}: :${param}=${JSON.stringify(v)} → ${res.status}`);
            if (NEVER_AN_ID.has(v) && res.status !== 404 && res.status !== 400) problems.push(`home ${c.allowed[0]}: :${param}=${JSON.stringify(v)} → ${res.status}, expected 404 (no such record)`);
            for (const x of internalsIn(res.html)) problems.push(`home: :${param}=${JSON.stringify(v)} shows internals (${x})`);
          }
        }
      }
      expect(problems).toEqual([]);
    });
  });

  it('keeps every page behind a session out of shared and browser caches (Cache-Control: no-store)', async () => {
    const missing: string[] = [];
    for (const c of CASES.filter((x) => methodOf(x) === 'GET')) {
      const res = await sendCase(world.sessions[c.allowed[0]!], c, await world.values(c, false));
      if (!/\bno-store\b/.test(res.headers.get('cache-control') ?? '')) missing.push(`${c.route} (${res.status}): Cache-Control ${JSON.stringify(res.headers.get('cache-control'))}`);
    }
    expect(missing).toEqual([]);
  });

  describe('home ids in query strings and form or JSON bodies of the strangers’ own pages', () => {
    /** A home record of each kind the queries and bodies below name. */
    const homeRecords = async () => {
      const db = world.stack.db.db;
      const { home } = world.ctx;
      const one = async (q: ReturnType<typeof sql>) => Number((await db.execute<{ id: number }>(q)).rows[0]?.id ?? 0);
      const templateCase = CASES.find((c) => c.route.includes('/templates/:templateId/delete'))!;
      return {
        taskId: home.taskId,
        courseId: home.courseId,
        instructorId: home.instructorId,
        itemId: await one(sql`select id from queue_items where platform_id = ${home.platformId} and status = 'queued' order by id limit 1`),
        assessmentId: await one(sql`select id from assessments where course_id = ${home.courseId} and review_status = 'pending_review' order by id limit 1`),
        versionId: await one(sql`select v.id from prompt_versions v join prompts p on p.id = v.prompt_id where p.task_id = ${home.taskId} order by v.id limit 1`),
        templateId: Number((await world.values(templateCase)).templateId),
      };
    };

    it('listing and editor pages filtered by home ids show nothing of the home tenant', async () => {
      const h = await homeRecords();
      expect(h.itemId * h.assessmentId * h.versionId * h.templateId).toBeGreaterThan(0);
      const problems: string[] = [];
      const changed = await changesDuring(world.stack.db.pool, async () => {
        for (const s of world.strangers) {
          const pages =
            s.who === 'administrator'
              ? [`/admin/queue?course=${h.courseId}&task=${h.taskId}&instructor=${h.instructorId}&status=all`, `/api/admin/llm-queue/?course=${h.courseId}&task=${h.taskId}&status=all`, `/admin/batches?created=1,2,3`]
              : s.who === 'instructor'
                ? [
                    `/instructor/review?task=${h.taskId}&status=all`,
                    `/instructor/analytics?task=${h.taskId}&version=${h.versionId}`,
                    `/instructor/tasks/${s.ownTaskId}/prompt?template=db:${h.templateId}`,
                    `/instructor/tasks/${s.ownTaskId}/prompt/diff?from=1&to=${h.versionId}`,
                    `/api/llm-assessments/pending-review/?task=${h.taskId}&course=${h.courseId}`,
                  ]
                : [`/student/tasks/${s.ownTaskId}?submission=${h.assessmentId}`];
          for (const p of pages) {
            const res = await s.session.get(p);
            if (res.status >= 500) problems.push(`${s.label}: ${p} → ${res.status}`);
            const secrets = secretsFor(res.status, world.homeSecrets);
            for (const x of leaked(res.html, secrets)) problems.push(`${s.label}: ${p} shows "${x}"`);
          }
        }
      });
      expect(problems).toEqual([]);
      expect(changed).toEqual([]);
    });

    it('ids in query strings and bodies, enumerated in the home tenant: never a 500', async () => {
      const h = await homeRecords();
      const { sessions } = world;
      const promptTask = Number(world.ids.get(CASES.find((c) => c.route === 'GET /instructor/tasks/:taskId/prompt')!.area)!.promptTaskId);
      const queries: Array<[Stranger['session'], (v: string) => string]> = [
        [sessions.instructor, (v) => `/instructor/tasks/${promptTask}/prompt/diff?from=1&to=${v}`],
        [sessions.instructor, (v) => `/instructor/tasks/${promptTask}/prompt/diff?from=${v}&to=1`],
        [sessions.instructor, (v) => `/instructor/tasks/${promptTask}/prompt?from=${v}`],
        [sessions.instructor, (v) => `/instructor/tasks/${promptTask}/prompt?template=db:${v}`],
        [sessions.instructor, (v) => `/instructor/review?task=${v}&status=all`],
        [sessions.instructor, (v) => `/instructor/analytics?task=${v}&version=${v}`],
        [sessions.administrator, (v) => `/admin/queue?course=${v}&task=${v}&instructor=${v}`],
        [sessions.administrator, (v) => `/api/admin/llm-queue/?course=${v}&page=${v}`],
        [sessions.administrator, (v) => `/admin/batches?page=${v}&created=${v}`],
      ];
      const near = [-1, 1].map((d) => String(h.taskId + d));
      const problems: string[] = [];
      const changed = await changesDuring(world.stack.db.pool, async () => {
        for (const v of [...near, ...QUERY_IDS]) {
          for (const [session, build] of queries) {
            const p = build(encodeURIComponent(v));
            const res = await session.get(p);
            if (res.status >= 500) problems.push(`GET ${p} → ${res.status}`);
          }
        }
        // Read-only bodies naming ids: the preview of a rollback and a copy to a task that cannot exist.
        for (const v of ODD_IDS.filter((x) => NEVER_AN_ID.has(x) || x === '2147483648')) {
          for (const [p, form] of [
            [`/instructor/tasks/${promptTask}/prompt/rollback`, { version: v }],
            [`/instructor/tasks/${promptTask}/prompt/copy`, { targetTaskId: v }],
            ['/instructor/review/bulk-approve', { ids: v }],
          ] as const) {
            const res = await sessions.instructor.post(p, form, { htmx: true });
            // Bulk approval reports what it skipped (200); the others name one record that does not exist (4xx).
            const ok = p.endsWith('bulk-approve') ? res.status < 500 : res.status >= 400 && res.status < 500;
            if (!ok) problems.push(`POST ${p} ${JSON.stringify(form)} → ${res.status}`);
          }
        }
      });
      expect(problems).toEqual([]);
      expect(changed).toEqual([]);
    });

    it('actions on home records named in a body, from the strangers’ own pages: refused or no-ops, nothing changed', async () => {
      const h = await homeRecords();
      const problems: string[] = [];
      const lastSubmission = Number((await world.stack.db.db.execute<{ id: number | null }>(sql`select max(id) as id from submissions`)).rows[0]!.id ?? 0);
      const changed = await changesDuring(world.stack.db.pool, async () => {
        for (const s of world.strangers) {
          const probes: Array<{ path: string; form?: Record<string, string>; json?: unknown }> =
            s.who === 'administrator'
              ? [
                  { path: '/admin/queue/actions', form: { scope: 'selected', ids: String(h.itemId), action: 'notes', notes: 'stranger' } },
                  { path: '/admin/queue/actions', form: { scope: 'selected', ids: String(h.itemId), action: 'skip' } },
                  { path: '/admin/queue/actions', form: { scope: 'all', f_course: String(h.courseId), action: 'priority', newPriority: 'high' } },
                  { path: '/admin/batches', form: { scope: 'selected', ids: String(h.itemId) } },
                  { path: '/admin/batches', form: { scope: 'all', f_course: String(h.courseId) } },
                  { path: '/api/admin/llm-batches/create/', json: { scope: 'selected', ids: [h.itemId] } },
                  { path: '/api/admin/llm-batches/create/', json: { scope: 'all', filter: { course: h.courseId } } },
                  { path: '/admin/costs/budgets', form: { scope: `course-${h.courseId}`, month: new Date().toISOString().slice(0, 7), limit: '1' } },
                ]
              : s.who === 'instructor'
                ? [
                    { path: '/instructor/review/bulk-approve', form: { ids: String(h.assessmentId), confirmFlagged: 'on' } },
                    { path: `/instructor/tasks/${s.ownTaskId}/prompt/templates/${h.templateId}/delete`, form: {} },
                    { path: `/instructor/tasks/${s.ownTaskId}/prompt/rollback`, form: { version: String(h.versionId) } },
                  ]
                : [{ path: `/student/tasks/${s.ownTaskId}/submissions`, form: { text: 'stranger', taskId: String(h.taskId), courseId: String(h.courseId) } }];
          // The other course's instructor teaches the home course too (the same person): copying a prompt between
          // their courses is allowed by design. Only another platform's instructor is a stranger to the home task.
          if (s.label === 'instructor of another platform') probes.push({ path: `/instructor/tasks/${s.ownTaskId}/prompt/copy`, form: { targetTaskId: String(h.taskId) } });
          for (const p of probes) {
            const res = p.json !== undefined ? await s.session.request(p.path, { method: 'POST', json: p.json }) : await s.session.post(p.path, p.form!, { htmx: true });
            if (res.status >= 500) problems.push(`${s.label}: POST ${p.path} → ${res.status}`);
            const secrets = secretsFor(res.status, world.homeSecrets);
            for (const x of leaked(res.html, secrets)) problems.push(`${s.label}: POST ${p.path} shows "${x}"`);
          }
        }
      });
      expect(problems).toEqual([]);
      // A stranger student's work is taken in their own task (graded by hand while their course has LLM assessment
      // off), whatever home ids the body names: each new submission is in a stranger's own task, with its one manual
      // assessment and audit entry. Nothing else may have changed, since every other probe names home records only.
      const added = (await world.stack.db.db.execute<{ task_id: number }>(sql`select task_id from submissions where id > ${lastSubmission}`)).rows.map((r) => Number(r.task_id));
      const ownTasks = new Set(world.strangers.filter((s) => s.who === 'student').map((s) => s.ownTaskId));
      expect(added.filter((t) => !ownTasks.has(t))).toEqual([]);
      const n = added.length;
      const expectedOwn = n ? [`public.assessments: `, `public.audit_log: `, `public.submissions: `] : [];
      expect(changed.map((c) => c.replace(/\d+ → \d+ rows$/, ''))).toEqual(expectedOwn);
      for (const c of changed) {
        const [, before, after] = /(\d+) → (\d+) rows$/.exec(c)!;
        expect(Number(after) - Number(before)).toBe(n);
      }
    });
  });
});
