import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { sql } from 'drizzle-orm';
import type { Browser, BrowserContext, Page as BrowserPage } from 'playwright-core';
import { launchChromium } from '../../e2e/browser.js';
import { createAssessment } from '../helpers/assessments.js';
import { launchWith } from '../helpers/launches.js';
import type { ToolSession } from '../helpers/lti-browser.js';
import { promptForm } from '../helpers/prompts.js';
import { startStack, type Stack } from '../helpers/stack.js';
import { GENEROUS_LIMITS } from './world.js';
import { domFindings, markerOf, PAYLOADS, payload, rawFindings } from './xss-corpus.js';

/**
 * XSS (issue 13): every payload of the corpus (test/security/xss-corpus.ts) put through every field a person, the
 * LMS or the LLM controls, and every page that shows those fields rendered in Chromium with the tool's real CSP.
 * Each payload gets its own course, launched with hostile LMS claims (course title and label, resource link title
 * and description, names, e-mail, custom parameters); the course's instructor writes hostile prompts, rubric and
 * template names; its student submits hostile work; crafted LLM results (the emulator cannot write arbitrary
 * text) are stored as the batch pipeline stores them; the instructor overrides and rejects with hostile reasons;
 * the platform's administrator writes hostile queue and batch notes, invite notes and deployment ids.
 *
 * A page passes when, in Chromium, no dialog opened, no payload ran (`window.__xss` unset), no request went to a
 * payload's URL, no CSP violation was reported, and the DOM holds no element or attribute a payload carries (the
 * CSP would hide an escaping bug: htmx acts on `hx-*` attributes whatever the CSP says); and when the same page
 * fetched over plain HTTP holds none of the payloads' tags or handlers unescaped. Every field's marker must show on
 * some page, so a field that silently stopped rendering cannot pass for a safe one.
 */

const N = PAYLOADS.length;
/**
 * Payloads per course: every field of a course holds its payloads one after the other (or one record each where a
 * field is too short for two), which halves the page views. An escaping bug shows with either payload: the served
 * HTML is checked for every payload's markup whatever the DOM made of the page.
 */
const PER_COURSE = 2;
const GROUPS = Array.from({ length: Math.ceil(N / PER_COURSE) }, (_, g) => Array.from({ length: PER_COURSE }, (__, k) => g * PER_COURSE + k).filter((i) => i < N));

/** The fields, by marker code. `lms`: from the launch; the others: typed, generated or written by the pipeline. */
const FIELDS: Record<string, string> = {
  ct: 'course title (LMS)',
  cl: 'course label (LMS)',
  rt: 'resource link title → task title (LMS)',
  rd: 'resource link description → task description (LMS)',
  un: 'person name, given and family name (LMS)',
  em: 'e-mail (LMS)',
  cu: 'custom parameters (LMS)',
  pt: 'prompt template',
  ps: 'system instructions',
  pg: 'grader instructions',
  rn: 'rubric criterion name',
  rc: 'rubric criterion description',
  vn: 'version note',
  tn: 'course template name',
  td: 'course template description',
  sm: 'submission (markdown)',
  st: 'submission (plain text)',
  lr: 'LLM reasoning',
  ls: 'LLM strengths',
  li: 'LLM improvements',
  lc: 'LLM comments (markdown)',
  lj: 'LLM criterion justification',
  lf: 'review flag message',
  lo: 'LLM raw output',
  or: 'override reason',
  of: 'override feedback (markdown)',
  rj: 'reject note',
  ge: 'grade sync error (from the LMS)',
  qn: 'queue item notes',
  bn: 'batch notes',
  be: 'batch error (from the provider)',
  br: 'batch request error (from the provider)',
  in: 'registration invite note',
  dp: 'deployment id',
  nt: 'notification title',
  nb: 'notification body',
  qf: 'queue filter in the query string (reflected)',
  bs: 'sample submission in the prompt bench (preview and test)',
  dn: 'duplicate criterion name in a refused save (message)',
  tv: 'unknown template variable in a refused save (message)',
};
/** Fields that no page shows (checked: they must not show up either, but cannot be required to). */
const NOT_RENDERED = new Set(['em', 'cu', 'cl']);
/**
 * Fields that legitimately leave some payloads out, so only some need to show: sanitized markdown (a payload may be
 * removed whole), and the unknown-variable message (a name with braces in it is reported as unbalanced braces).
 */
const PARTIAL = new Set(['lc', 'tv']);

interface Course {
  /** The course's number, and the payloads it holds. */
  g: number;
  ids: number[];
  instructor: ToolSession;
  student: ToolSession;
  deepLinking: ToolSession;
  taskId: number;
  pending: number;
  overridden: { id: number; submissionId: number };
  rejected: number;
  unusable: number;
  batchId: number;
}

const CONTEXT = 'https://purl.imsglobal.org/spec/lti/claim/context';
const LINK = 'https://purl.imsglobal.org/spec/lti/claim/resource_link';
const CUSTOM = 'https://purl.imsglobal.org/spec/lti/claim/custom';

/** A field's value in a course: its payloads one after the other. */
const joined = (ids: number[], field: string) => ids.map((i) => payload(i, field)).join(' | ');

/** An id_token's hostile claims for course `g`: the LMS-controlled fields of a launch. */
function claims(g: number, ids: number[], who: string, withLink = true): Record<string, unknown> {
  const p = (f: string) => joined(ids, f);
  const i = g;
  return {
    sub: `xss-${who}-${i}`,
    name: p('un'),
    given_name: p('un'),
    family_name: p('un'),
    email: p('em'),
    [CONTEXT]: { id: `xss-course-${i}`, label: p('cl'), title: p('ct'), type: ['http://purl.imsglobal.org/vocab/lis/v2/course#CourseOffering'] },
    ...(withLink ? { [LINK]: { id: `xss-link-${i}`, title: p('rt'), description: p('rd') } } : {}),
    [CUSTOM]: { task_type: p('cu'), username: p('cu'), context_title: p('cu'), llm_assess_task_id: p('cu') },
  };
}

/**
 * A Chromium page that holds one person's cookies at a time (ltijs keeps one cookie per platform and user) and
 * records what a payload could make it do: dialogs, requests to a payload's URL, CSP reports in the console.
 */
class Viewer {
  readonly events: string[] = [];
  private current: ToolSession | undefined;

  private constructor(
    readonly context: BrowserContext,
    readonly page: BrowserPage,
    private readonly toolUrl: string,
  ) {}

  static async open(browser: Browser, toolUrl: string): Promise<Viewer> {
    const context = await browser.newContext();
    await context.addInitScript(() => {
      type Violation = { violatedDirective: string; blockedURI: string; sample: string };
      const w = globalThis as unknown as { __csp: string[]; document: { addEventListener(type: string, fn: (e: Violation) => void): void } };
      w.__csp = [];
      w.document.addEventListener('securitypolicyviolation', (e) => w.__csp.push(`${e.violatedDirective} ${e.blockedURI} ${e.sample}`));
    });
    const page = await context.newPage();
    const viewer = new Viewer(context, page, toolUrl);
    page.on('dialog', (d) => {
      viewer.events.push(`dialog: ${d.message()}`);
      void d.dismiss();
    });
    page.on('request', (r) => {
      const url = new URL(r.url());
      if (url.pathname.startsWith('/xss') || url.hostname.endsWith('evil.example')) viewer.events.push(`request to ${r.url()}`);
    });
    page.on('console', (m) => {
      if (/Content Security Policy/i.test(m.text())) viewer.events.push(`console: ${m.text().slice(0, 200)}`);
    });
    return viewer;
  }

  async becomes(session: ToolSession): Promise<void> {
    if (this.current === session) return;
    await this.context.clearCookies();
    const url = new URL(this.toolUrl);
    await this.context.addCookies(session.browser.jar.all(url.hostname).map((c) => ({ name: c.name, value: c.value, domain: url.hostname, path: '/', httpOnly: /httponly/i.test(c.attributes), secure: false, sameSite: 'Lax' as const })));
    this.current = session;
  }

  /** What is wrong with the page now open (DOM, canary, CSP, dialogs and requests since the last look). */
  async inspect(label: string): Promise<string[]> {
    const found = [...(await this.page.evaluate(domFindings)), ...this.events.splice(0)];
    return found.map((f) => `${label}: ${f}`);
  }
}

describe('XSS corpus through every rendered field, in Chromium with the real CSP', () => {
  let stack: Stack;
  let admin: ToolSession;
  const courses: Course[] = [];
  let chrome: Awaited<ReturnType<typeof launchChromium>>;
  const viewers: Viewer[] = [];
  /** Markers seen on any page, for the coverage check. */
  const seen = new Set<string>();
  let pagesRendered = 0;

  beforeAll(async () => {
    stack = await startStack({ emulator: true, env: { ...GENEROUS_LIMITS, BATCH_MIN_SIZE: '1' } });
    admin = await stack.browser().launch(stack.devlmsUrl, 'admin');
    for (const [g, ids] of GROUPS.entries()) {
      try {
        courses.push(await hostileCourse(g, ids));
      } catch (err) {
        throw new Error(`setting up course ${g} (payloads ${ids.join(', ')}): ${(err as Error).message}`);
      }
    }
    chrome = await launchChromium();
    // Two pages at work at once (each its own cookie jar): the corpus makes many hundreds of page views.
    for (let w = 0; w < 2; w++) viewers.push(await Viewer.open(chrome.browser, stack.toolUrl));
  }, 600_000);
  afterAll(async () => {
    for (const v of viewers) await v.context.close().catch(() => undefined);
    await chrome?.close();
    await stack?.close();
  });

  /** Course `g` with payloads `ids`, every hostile field filled the way the tool's users and services fill it. */
  async function hostileCourse(g: number, ids: number[]): Promise<Course> {
    const p = (f: string) => joined(ids, f);
    const i = g;
    const db = stack.db.db;
    const instructor = await launchWith(stack, stack.browser(), 'instructor', { task: '1' }, claims(g, ids, 'instructor'));
    const student = await launchWith(stack, stack.browser(), 'student1', { task: '1' }, claims(g, ids, 'student'));
    const deepLinking = await launchWith(stack, stack.browser(), 'instructor', { message: 'deep_linking' }, claims(g, ids, 'instructor', false));
    const taskId = Number((await db.execute<{ id: number }>(sql`select t.id from tasks t join courses c on c.id = t.course_id where c.context_id = ${`xss-course-${i}`}`)).rows[0]!.id);
    await db.execute(sql`update tasks set max_attempts = 20 where id = ${taskId}`);
    const ok = async (what: string, res: Promise<{ status: number; html: string }>, status = 200) => {
      const r = await res;
      if (r.status !== status) throw new Error(`${what} answered ${r.status}: ${r.html.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ').slice(0, 300)}`);
      return r;
    };
    await ok('settings', instructor.post('/instructor/settings', { llmAllowed: 'on' }, { htmx: true }));
    const base = `/instructor/tasks/${taskId}/prompt`;
    // Criterion and template names are short (120 characters): one criterion and one template per payload.
    const rubric = ids.map((k) => ({ name: payload(k, 'rn'), description: payload(k, 'rc'), maxPoints: '10' }));
    // Braces are the template's own syntax: written doubled, they are literal text (a refused one is probed below).
    const literal = (t: string) => t.replaceAll('{', '{{').replaceAll('}', '}}');
    const form = (v: number) =>
      promptForm({ template: `${literal(p('pt'))}\n\nv${v}\n\n{student_submission}`, systemInstructions: p('ps'), graderInstructions: p('pg'), note: p('vn'), rubric, baseVersion: v === 1 ? '' : String(v - 1) });
    await ok('prompt v1', instructor.post(base, form(1), { htmx: true }));
    await ok('prompt v2', instructor.post(base, form(2), { htmx: true }));
    for (const k of ids) await ok('template', instructor.post(`${base}/templates`, { ...form(2), templateName: payload(k, 'tn'), templateDescription: payload(k, 'td') }, { htmx: true }));
    await ok('submission (markdown)', student.post(`/student/tasks/${taskId}/submissions`, { text: p('sm'), format: 'markdown' }, { htmx: true }), 201);
    await ok('submission (text)', student.post(`/student/tasks/${taskId}/submissions`, { text: p('st'), format: 'text' }, { htmx: true }), 201);

    // LLM results as ingestion stores them (the emulator writes its own text), hostile in every field the model writes.
    const crafted = async (text: string, unusable = false) => {
      const a = await createAssessment(stack, { taskId, studentSub: `xss-student-${i}`, text, comments: p('lc'), unusable });
      const flags = JSON.stringify([{ code: 'prompt_injection', message: p('lf') }]);
      if (unusable) {
        await db.execute(sql`update assessments set raw_output = ${p('lo')}, flags = ${flags}::jsonb where id = ${a.id}`);
        return a;
      }
      const row = (await db.execute<{ result: { criteria: Record<string, { score: number; justification: string }> } & Record<string, unknown> }>(sql`select result from assessments where id = ${a.id}`)).rows[0]!;
      const result = { ...row.result, strengths: [p('ls'), 'Clear structure'], improvements: [p('li')], reasoning: p('lr') };
      for (const c of Object.values(result.criteria)) c.justification = p('lj');
      await db.execute(sql`update assessments set result = ${JSON.stringify(result)}::jsonb, flags = ${flags}::jsonb, needs_review = true where id = ${a.id}`);
      return a;
    };
    const pending = await crafted(p('sm'));
    const overridden = await crafted(p('sm'));
    const rejected = await crafted(p('st'));
    const unusable = await crafted(p('sm'), true);
    await ok('override', instructor.post(`/instructor/review/${overridden.id}/override`, { decisionSeq: '0', score: '5', category: 'other', reason: p('or'), feedback: p('of') }, { htmx: true }));
    await ok('reject', instructor.post(`/instructor/review/${rejected.id}/reject`, { decisionSeq: '0', rejectTo: 'manual', note: p('rj') }, { htmx: true }));
    await db.execute(sql`update assessments set grade_sync_status = 'failed', grade_sync_error = ${p('ge')}, grade_sync_attempts = 3 where id = ${overridden.id}`);

    // The administrator: queue notes, a batch with notes (and the provider's errors), an invite, a deployment.
    const items = (await db.execute<{ id: number }>(sql`select q.id from queue_items q where q.task_id = ${taskId} and q.status = 'queued' order by q.id`)).rows.map((r) => Number(r.id));
    await ok('queue notes', admin.post('/admin/queue/actions', { scope: 'selected', ids: String(items[0]), action: 'notes', notes: p('qn') }, { htmx: true }));
    await ok('batch', admin.post('/admin/batches', { scope: 'selected', ids: String(items[1]), batchNotes: p('bn') }, { htmx: true }), 201);
    const batchId = Number((await db.execute<{ id: number }>(sql`select batch_id as id from batch_requests where queue_item_id = ${items[1]!}`)).rows[0]!.id);
    await db.execute(sql`update batches set error = ${p('be')} where id = ${batchId}`);
    await db.execute(sql`update batch_requests set status = 'failed', error_code = 'invalid_request', error_message = ${p('br')} where batch_id = ${batchId}`);
    for (const k of ids) await ok('invite', admin.post('/admin/registration-invites', { note: payload(k, 'in'), becomes: 'platform' }, { htmx: true }));
    await ok('deployment', admin.post('/admin/platforms/deployments', { deploymentId: p('dp') }, { htmx: true }));
    await db.execute(sql`
      insert into notifications (platform_id, course_id, kind, severity, title, body, link)
      select c.platform_id, c.id, 'budget_alert', 'warning', ${p('nt')}, ${p('nb')}, '/admin/costs' from courses c where c.context_id = ${`xss-course-${i}`}`);
    await db.execute(sql`
      insert into budgets (platform_id, course_id, month, limit_micros)
      select c.platform_id, c.id, date_trunc('month', now())::date, 5000000 from courses c where c.context_id = ${`xss-course-${i}`}`);
    return {
      g,
      ids,
      instructor,
      student,
      deepLinking,
      taskId,
      pending: pending.id,
      overridden: { id: overridden.id, submissionId: overridden.submissionId },
      rejected: rejected.id,
      unusable: unusable.id,
      batchId,
    };
  }

  type Job = (viewer: Viewer) => Promise<string[]>;

  /** Runs jobs on the viewers, as many at once as there are viewers; returns every problem found. */
  async function run(jobs: Job[]): Promise<string[]> {
    const problems: string[] = [];
    let next = 0;
    await Promise.all(
      viewers.map(async (viewer) => {
        while (next < jobs.length) problems.push(...(await jobs[next++]!(viewer)));
      }),
    );
    return problems;
  }

  /**
   * Opens a page in Chromium as `session`: what the DOM holds, and the HTML exactly as the server sent it (the
   * response of that plain GET, before any script ran) checked for unescaped payloads.
   */
  const visit =
    (session: ToolSession, path: string, label = path, status = 200): Job =>
    async (viewer) => {
      await viewer.becomes(session);
      const sep = path.includes('?') ? '&' : '?';
      const res = await viewer.page.goto(`${stack.toolUrl}${path}${sep}ltik=${encodeURIComponent(session.ltik)}`, { waitUntil: 'load' });
      pagesRendered++;
      const problems = await viewer.inspect(label);
      if (res?.status() !== status) problems.push(`${label}: status ${res?.status()}, expected ${status}`);
      const served = (await res?.text()) ?? '';
      for (const m of served.match(/xss\d+f[a-z]{2}/g) ?? []) seen.add(m);
      for (const f of rawFindings(served, PAYLOADS)) problems.push(`${label} (served HTML): ${f}`);
      return problems;
    };

  /** Clicks a control that makes an htmx request, and waits until its answer is swapped in and settled. */
  const clickAndSettle = async (viewer: Viewer, selector: string) => {
    type Doc = { addEventListener(type: string, fn: () => void, options: { once: boolean }): void };
    await viewer.page.evaluate(() => {
      const w = globalThis as unknown as { __settled: boolean; document: Doc };
      w.__settled = false;
      w.document.addEventListener('htmx:afterSettle', () => (w.__settled = true), { once: true });
    });
    await viewer.page.click(selector);
    await viewer.page.waitForFunction(() => (globalThis as unknown as { __settled: boolean }).__settled);
  };

  /** After an htmx swap in the page: the DOM, and the swapped markup's markers for the coverage check. */
  const inspectSwap = async (viewer: Viewer, label: string) => {
    const html = await viewer.page.evaluate(() => (globalThis as unknown as { document: { documentElement: { outerHTML: string } } }).document.documentElement.outerHTML);
    for (const m of html.match(/xss\d+f[a-z]{2}/g) ?? []) seen.add(m);
    return viewer.inspect(label);
  };

  it('has a corpus of at least 30 payloads covering the classes of the probe', () => {
    expect(N).toBeGreaterThanOrEqual(30);
    for (const cls of [/<script/, /onerror=/, /"><svg/, /\]\(javascript:/i, /!\[.*\]\(javascript:/, /srcdoc/, /<math/, /<%=/, /\$\{/, /hx-get/, /hx-on/, /data:text/, /\uff1c|\u202e|\u200b/, /style=|<style/, /%3C/]) {
      expect(PAYLOADS.some((p) => cls.test(p))).toBe(true);
    }
    for (const p of PAYLOADS) expect(p.replaceAll('{m}', markerOf(99, 'xx')).length).toBeLessThanOrEqual(120);
  });

  it('control: the checks catch each payload that is not escaped (a page of the tool’s origin, CSP and scripts)', async () => {
    const viewer = viewers[0]!;
    const layout = await admin.get('/admin');
    const csp = layout.headers.get('content-security-policy')!;
    expect(csp).toContain("script-src 'self'");
    const head = layout.html.slice(0, layout.html.indexOf('</head>') + '</head>'.length);
    const missed: string[] = [];
    let markup = 0;
    for (let i = 0; i < N; i++) {
      const p = payload(i, 'zz');
      const html = `${head}<body><main><p>${p}</p><input value="${p}"></main></body></html>`;
      const url = `${stack.toolUrl}/__xss-control-${i}`;
      await viewer.page.route(url, (route) => route.fulfill({ status: 200, headers: { 'content-type': 'text/html; charset=utf-8', 'content-security-policy': csp }, body: html }));
      await viewer.page.goto(url, { waitUntil: 'load' });
      const dom = await viewer.inspect(`control ${i}`);
      const served = rawFindings(html, PAYLOADS);
      // Payloads that are markup when unescaped must be seen by both checks; text-only ones (markdown links,
      // encoded or template syntax) are harmless raw and are caught where the markdown is rendered.
      if (/<[a-z]/i.test(p)) {
        markup++;
        if (!dom.length) missed.push(`DOM check missed payload ${i}: ${p}`);
        if (!served.length) missed.push(`served-HTML check missed payload ${i}: ${p}`);
      }
    }
    expect(missed).toEqual([]);
    expect(markup).toBeGreaterThanOrEqual(25);
    // Markdown made unsafe: a javascript: link and an injected htmx trigger are caught as well.
    const unsafe = `${head}<body><a href="javascript:window.__xss=1">x</a><div hx-get="/xss-htmx" hx-trigger="load">y</div></body></html>`;
    await viewer.page.route(`${stack.toolUrl}/__xss-control-links`, (route) => route.fulfill({ status: 200, headers: { 'content-type': 'text/html', 'content-security-policy': csp }, body: unsafe }));
    await viewer.page.goto(`${stack.toolUrl}/__xss-control-links`, { waitUntil: 'load' });
    const found = (await viewer.inspect('control links')).join('\n');
    expect(found).toMatch(/href URL/);
    expect(found).toMatch(/htmx request attribute|request to .*xss-htmx/);
    expect(rawFindings(unsafe, []).join('\n')).toMatch(/dangerous URL attribute/);
  }, 300_000);

  it("instructors' pages: LMS claims, prompts, rubric, versions, templates, submissions, LLM results, decisions, agreement", async () => {
    const jobs = courses.flatMap((c) =>
      [
        '/instructor',
        `/instructor/tasks/${c.taskId}`,
        `/instructor/tasks/${c.taskId}/prompt`,
        `/instructor/tasks/${c.taskId}/prompt/versions/1`,
        `/instructor/tasks/${c.taskId}/prompt/diff?from=1&to=2`,
        '/instructor/review?status=all',
        `/instructor/review/${c.pending}`,
        `/instructor/review/${c.overridden.id}`,
        `/instructor/review/${c.rejected}`,
        `/instructor/review/${c.unusable}`,
        '/instructor/analytics',
      ].map((path) => visit(c.instructor, path, `payloads ${c.ids.join(', ')} ${path}`)),
    );
    expect(await run(jobs)).toEqual([]);
  }, 900_000);

  it("students' pages: their tasks, their work and the released feedback", async () => {
    const jobs = courses.flatMap((c) => ['/student', `/student/tasks/${c.taskId}`, `/student/submissions/${c.overridden.submissionId}/feedback`].map((path) => visit(c.student, path, `payloads ${c.ids.join(', ')} ${path}`)));
    expect(await run(jobs)).toEqual([]);
  }, 600_000);

  it("administrators' pages: alerts, queue, batches, costs, LMS registrations; the queue's filter reflected from the query", async () => {
    const db = stack.db.db;
    const problems: string[] = [];
    const one = (job: Job) => job(viewers[0]!);
    for (const path of ['/admin/queue?status=all&pageSize=200', '/admin/batches', '/admin/costs']) problems.push(...(await one(visit(admin, path))));
    // The overview shows the 20 newest unread alerts, the registrations page the 10 newest links: page through them.
    for (let round = 0; round <= N; round++) {
      problems.push(...(await one(visit(admin, '/admin', `overview, round ${round}`))));
      const shown = await db.execute(sql`update notifications set read_at = now() where id in (select id from notifications where read_at is null order by id desc limit 20) returning id`);
      if (!shown.rows.length) break;
    }
    for (let round = 0; round <= N; round++) {
      problems.push(...(await one(visit(admin, '/admin/platforms', `registrations, round ${round}`))));
      const shown = await db.execute(sql`update registration_invites set created_by_platform_id = null where id in (select id from registration_invites where created_by_platform_id is not null order by id desc limit 10) returning id`);
      if (!shown.rows.length) break;
    }
    const jobs: Job[] = courses.map((c) => visit(admin, `/admin/batches/${c.batchId}`, `payloads ${c.ids.join(', ')} batch`));
    // The dashboard's date filters come back into their fields as typed.
    for (const c of courses) {
      const q = encodeURIComponent(joined(c.ids, 'qf'));
      jobs.push(visit(admin, `/admin/queue?from=${q}&to=${q}`, `payloads ${c.ids.join(', ')} queue filter`, 422));
    }
    problems.push(...(await run(jobs)));
    expect(problems).toEqual([]);
  }, 600_000);

  it('deep linking: the task list an instructor picks from', async () => {
    expect(await run(courses.map((c) => visit(c.deepLinking, '/deep-linking', `payloads ${c.ids.join(', ')} deep linking`)))).toEqual([]);
  }, 600_000);

  it('the prompt bench and refused saves, driven in the page: preview, test on samples, duplicate criterion names, an unknown variable', async () => {
    const jobs: Job[] = courses.map((c) => async (viewer) => {
      const label = `payloads ${c.ids.join(', ')} bench`;
      const page = viewer.page;
      const problems = await visit(c.instructor, `/instructor/tasks/${c.taskId}/prompt`, label)(viewer);
      await page.fill('#sample-0', joined(c.ids, 'bs'));
      await clickAndSettle(viewer, '#prompts-preview-button');
      await page.waitForSelector('#prompts-preview');
      problems.push(...(await inspectSwap(viewer, `${label} preview`)));
      await clickAndSettle(viewer, '#prompts-test-button');
      await page.waitForSelector('#prompts-test-results');
      problems.push(...(await inspectSwap(viewer, `${label} test`)));
      // Refused saves whose messages quote what was typed: each payload as a name used twice, then as an unknown
      // variable (the first unknown variable is the one named).
      const rows = c.ids.length * 2;
      for (let r = c.ids.length; r < rows; r++) await clickAndSettle(viewer, 'button[value="add-criterion"]');
      for (let r = 0; r < rows; r++) {
        await page.fill(`#criterion-${r}-name`, payload(c.ids[Math.floor(r / 2)]!, 'dn'));
        await page.fill(`#criterion-${r}-points`, '5');
      }
      for (const k of c.ids) {
        await page.fill('#prompt-template', `{${payload(k, 'tv')}} {student_submission}`);
        await clickAndSettle(viewer, '#prompts-save');
        expect(await page.locator('#prompt-template').getAttribute('aria-invalid')).toBe('true');
        problems.push(...(await inspectSwap(viewer, `${label} refused save`)));
      }
      return problems;
    });
    expect(await run(jobs)).toEqual([]);
  }, 900_000);

  it('showed every field somewhere (so none passed by not being rendered), and every payload in each', () => {
    const missing: string[] = [];
    for (const [code, name] of Object.entries(FIELDS)) {
      if (NOT_RENDERED.has(code)) continue;
      const absent = PAYLOADS.map((_, i) => i).filter((i) => !seen.has(markerOf(i, code)));
      if (PARTIAL.has(code) ? absent.length === N : absent.length) missing.push(`${name} (${code}): payloads ${absent.join(', ')} never shown`);
    }
    expect(missing).toEqual([]);
    // The fields no page shows really are not shown (if one starts to be, it moves to the list above).
    for (const code of NOT_RENDERED) expect(PAYLOADS.map((_, i) => i).filter((i) => seen.has(markerOf(i, code)))).toEqual([]);
    // For the record: pages rendered in Chromium, payloads × fields exercised.
    console.warn(`XSS: ${N} payloads × ${Object.keys(FIELDS).length - NOT_RENDERED.size} rendered fields (+${NOT_RENDERED.size} sent but never rendered), ${pagesRendered} page loads in Chromium`);
  });
});
