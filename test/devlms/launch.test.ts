import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { decodeProtectedHeader, SignJWT } from 'jose';
import { SEED } from '../../src/devlms/index.js';
import { authRequestFor, CLIENT_ID, formPost, launch, launchPageLoginUrl, startHarness, type Harness } from './helpers/harness.js';

const LTI = 'https://purl.imsglobal.org/spec/lti/claim/';
const LIS = 'http://purl.imsglobal.org/vocab/lis/v2/';
const person = (login: string) => SEED.people.find((p) => p.login === login)!;

describe('dev LMS: OIDC launch', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => {
    await h.close();
  });

  it('serves the LMS page with the tool in a cross-site iframe that starts the third-party-initiated login', async () => {
    const res = await fetch(`${h.url}/launch/student1`);
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toMatch(/<iframe class="tool" id="tool-frame"[^>]* title="Essay: Causes of the French Revolution \(llm-assess \(development\)\)"/);
    expect(html).toMatch(/<iframe[^>]*allow="clipboard-write"/);
    const login = new URL(await launchPageLoginUrl(h, '/launch/student1'));
    expect(`${login.origin}${login.pathname}`).toBe(`${h.tool.url}/lti/login`);
    expect(login.hostname).toBe('localhost');
    expect(new URL(h.url).hostname).toBe('127.0.0.1');
    expect(Object.fromEntries(login.searchParams)).toEqual({
      iss: h.url,
      login_hint: person('student1').sub,
      target_link_uri: `${h.tool.url}/lti/launch`,
      lti_message_hint: expect.stringMatching(/^ey/),
      client_id: CLIENT_ID,
      lti_deployment_id: '1',
    });
  });

  it('answers /auth with a form_post of an RS256 id_token carrying every claim a real LMS sends', async () => {
    const { idToken, claims, state, action } = await launch(h, '/launch/student1?task=1');
    expect(action).toBe(`${h.tool.url}/lti/launch`);
    expect(state).toMatch(/^state-/);
    const header = decodeProtectedHeader(idToken);
    expect(header.alg).toBe('RS256');
    const jwks = (await (await fetch(`${h.url}/jwks`)).json()) as { keys: { kid: string }[] };
    expect(jwks.keys.map((k) => k.kid)).toContain(header.kid);
    const essay = SEED.links[0];
    expect(claims).toMatchObject({
      iss: h.url,
      aud: CLIENT_ID,
      azp: CLIENT_ID,
      sub: person('student1').sub,
      nonce: expect.stringMatching(/^nonce-/),
      name: 'Amara Okafor',
      given_name: 'Amara',
      family_name: 'Okafor',
      email: 'amara.okafor@example.edu',
      [`${LTI}message_type`]: 'LtiResourceLinkRequest',
      [`${LTI}version`]: '1.3.0',
      [`${LTI}deployment_id`]: '1',
      [`${LTI}target_link_uri`]: `${h.tool.url}/lti/launch`,
      [`${LTI}resource_link`]: { id: essay.id, title: essay.title, description: essay.description },
      [`${LTI}roles`]: expect.arrayContaining([`${LIS}membership#Learner`, `${LIS}institution/person#Student`]),
      [`${LTI}context`]: { id: 'course-101', label: 'HIST 101', title: 'History 101: Revolutions', type: [`${LIS}course#CourseOffering`] },
      [`${LTI}tool_platform`]: { guid: expect.any(String), name: expect.any(String), product_family_code: 'llm-assess-devlms', version: '1.0.0' },
      [`${LTI}launch_presentation`]: { document_target: 'iframe', return_url: `${h.url}/return`, locale: 'en' },
      [`${LTI}custom`]: { username: 'student1', context_title: 'History 101: Revolutions', task_type: 'essay' },
      'https://purl.imsglobal.org/spec/lti-ags/claim/endpoint': {
        scope: [
          'https://purl.imsglobal.org/spec/lti-ags/scope/lineitem',
          'https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly',
          'https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly',
          'https://purl.imsglobal.org/spec/lti-ags/scope/score',
        ],
        lineitems: `${h.url}/api/lti/courses/course-101/line_items`,
        lineitem: expect.stringMatching(new RegExp(`^${h.url}/api/lti/courses/course-101/line_items/\\d+$`)),
      },
      'https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice': {
        context_memberships_url: `${h.url}/api/lti/courses/course-101/memberships`,
        service_versions: ['2.0'],
      },
    });
    expect(claims.exp! - claims.iat!).toBe(300);
    expect(Math.abs(claims.iat! - Date.now() / 1000)).toBeLessThan(5);
    expect(claims).not.toHaveProperty('https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings');
  });

  it('binds each task to its own line item, and the course navigation link to none', async () => {
    const one = await launch(h, '/launch/student2?task=1');
    const two = await launch(h, '/launch/student2?task=2');
    const ags = (c: typeof one.claims) => c['https://purl.imsglobal.org/spec/lti-ags/claim/endpoint'] as { lineitem?: string };
    expect(ags(two.claims).lineitem).toBeDefined();
    expect(ags(two.claims).lineitem).not.toBe(ags(one.claims).lineitem);
    expect((two.claims[`${LTI}resource_link`] as { id: string }).id).toBe(SEED.links[1].id);

    const nav = await launch(h, '/launch/student2?task=nav');
    expect(nav.claims[`${LTI}target_link_uri`]).toBe(`${h.tool.url}/lti/launch?placement=course_navigation`);
    expect(nav.action).toBe(`${h.tool.url}/lti/launch`);
    expect((nav.claims[`${LTI}resource_link`] as { id: string }).id).toBe(SEED.links[2].id);
    expect(ags(nav.claims)).toEqual(expect.not.objectContaining({ lineitem: expect.anything() }));
  });

  it('launches the instructor and the administrator with their roles', async () => {
    const instructor = await launch(h, '/launch/instructor?task=2');
    expect(instructor.claims[`${LTI}roles`]).toEqual(expect.arrayContaining([`${LIS}membership#Instructor`, `${LIS}institution/person#Faculty`]));
    const admin = await launch(h, '/launch/admin');
    expect(admin.claims.sub).toBe(person('admin').sub);
    expect(admin.claims[`${LTI}roles`]).toEqual(expect.arrayContaining([`${LIS}institution/person#Administrator`]));
    expect(admin.claims[`${LTI}roles`]).not.toEqual(expect.arrayContaining([`${LIS}membership#Learner`]));
  });

  it('sends an LtiDeepLinkingRequest with deep-linking settings for "Add activity"', async () => {
    const { claims } = await launch(h, '/launch/instructor?message=deep_linking');
    expect(claims[`${LTI}message_type`]).toBe('LtiDeepLinkingRequest');
    expect(claims).not.toHaveProperty(`${LTI}resource_link`);
    expect(claims[`${LTI}target_link_uri`]).toBe(`${h.tool.url}/lti/launch`);
    expect(claims['https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings']).toEqual({
      deep_link_return_url: `${h.url}/deep_link_return`,
      accept_types: ['ltiResourceLink'],
      accept_presentation_document_targets: ['iframe', 'window'],
      accept_multiple: false,
      accept_lineitem: true,
      auto_create: true,
      title: expect.any(String),
      data: expect.stringMatching(/^ey/),
    });
  });

  it('accepts the authentication request as a form POST too', async () => {
    const auth = authRequestFor(h, await launchPageLoginUrl(h, '/launch/student3'));
    const res = await fetch(`${h.url}/auth`, { method: 'POST', body: new URLSearchParams(auth.searchParams) });
    expect(res.status).toBe(200);
    expect(formPost(await res.text()).fields.id_token).toMatch(/^ey/);
  });

  it('answers unknown people, tasks and bad launch parameters with clear pages', async () => {
    const cases: [string, number, RegExp][] = [
      ['/launch/nobody', 404, /no person with login &quot;nobody&quot;/],
      ['/launch/student1?task=9', 404, /no task 9/],
      ['/launch/student1?task=abc', 400, /task number/],
      ['/launch/student1?message=deep_linking', 403, /Only instructors and administrators/],
      ['/launch/student1?client=nope', 404, /No tool is registered/],
      ['/launch/student1?bogus=1', 400, /Invalid launch/],
    ];
    for (const [path, status, message] of cases) {
      const res = await fetch(`${h.url}${path}`);
      expect([path, res.status]).toEqual([path, status]);
      expect(res.headers.get('content-type')).toMatch(/text\/html/);
      expect(await res.text()).toMatch(message);
    }
  });

  describe('/auth validation', () => {
    let loginUrl: string;
    beforeAll(async () => {
      loginUrl = await launchPageLoginUrl(h, '/launch/student1');
    });

    async function auth(overrides: Record<string, string | undefined>) {
      const url = authRequestFor(h, loginUrl, overrides);
      const res = await fetch(url, { redirect: 'manual' });
      return { res, html: await res.text(), state: url.searchParams.get('state') };
    }

    it('shows an error page, never a redirect, while client_id or redirect_uri is not trusted', async () => {
      const cases: [Record<string, string | undefined>, RegExp][] = [
        [{ client_id: undefined }, /client_id is missing/],
        [{ client_id: 'someone-else' }, /Unknown client_id/],
        [{ redirect_uri: undefined }, /redirect_uri is missing/],
        [{ redirect_uri: 'https://evil.example/steal' }, /is not registered for client/],
        [{ redirect_uri: `${h.tool.url}/lti/launch?placement=course_navigation` }, /carries a query string/],
      ];
      for (const [overrides, message] of cases) {
        const { res, html } = await auth(overrides);
        expect(res.status).toBe(400);
        expect(res.headers.get('location')).toBeNull();
        expect(html).not.toMatch(/<form method="post"/);
        expect(html).toMatch(message);
      }
    });

    it('posts each protocol error back to the trusted redirect_uri with the state', async () => {
      const cases: [Record<string, string | undefined>, string, RegExp][] = [
        [{ response_type: 'code' }, 'unsupported_response_type', /response_type must be "id_token"/],
        [{ scope: 'profile' }, 'invalid_scope', /scope must be "openid"/],
        [{ prompt: 'login' }, 'invalid_request', /prompt must be "none"/],
        [{ prompt: undefined }, 'invalid_request', /prompt must be "none"/],
        [{ nonce: undefined }, 'invalid_request', /nonce is missing/],
        [{ login_hint: undefined }, 'invalid_request', /login_hint is missing/],
        [{ login_hint: person('student2').sub }, 'invalid_request', /login_hint does not match/],
        [{ lti_message_hint: undefined }, 'invalid_request', /lti_message_hint is missing/],
        [{ lti_message_hint: 'tampered.hint.value' }, 'invalid_request', /lti_message_hint is not one this platform issued/],
        [{ lti_deployment_id: '99' }, 'invalid_request', /lti_deployment_id "99"/],
        [{ id_token_signed_response_alg: 'HS256' }, 'invalid_request', /must be RS256/],
      ];
      for (const [overrides, code, message] of cases) {
        const { res, html, state } = await auth(overrides);
        expect(res.status).toBe(200);
        const form = formPost(html);
        expect(form.action).toBe(`${h.tool.url}/lti/launch`);
        expect(form.fields).toEqual({ error: code, error_description: expect.stringMatching(message), state: state! });
      }
    });

    it('reports a missing state without one', async () => {
      const { html } = await auth({ state: undefined });
      expect(formPost(html).fields).toEqual({ error: 'invalid_request', error_description: expect.stringMatching(/state is missing/) });
    });

    it('redirects with error=… in the query when response_mode itself is wrong', async () => {
      const { res, state } = await auth({ response_mode: 'query' });
      expect(res.status).toBe(302);
      const location = new URL(res.headers.get('location')!);
      expect(`${location.origin}${location.pathname}`).toBe(`${h.tool.url}/lti/launch`);
      expect(location.searchParams.get('error')).toBe('invalid_request');
      expect(location.searchParams.get('error_description')).toMatch(/response_mode must be "form_post"/);
      expect(location.searchParams.get('state')).toBe(state);
    });

    it('refuses an expired message hint, and one issued to another client', async () => {
      const secret = await h.db.pool.query<{ value: string }>("select value from devlms.secrets where name = 'signed-state'");
      const key = Buffer.from(secret.rows[0]!.value, 'base64url');
      const hint = JSON.parse(Buffer.from(new URL(loginUrl).searchParams.get('lti_message_hint')!.split('.')[1]!, 'base64url').toString());
      const now = Math.floor(Date.now() / 1000);
      const sign = (claims: Record<string, unknown>) => new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).sign(key);

      const expired = await sign({ ...hint, iat: now - 600, exp: now - 300 });
      const r1 = await auth({ lti_message_hint: expired });
      expect(formPost(r1.html).fields.error_description).toMatch(/lti_message_hint has expired/);

      const otherClient = await sign({ ...hint, client_id: 'another-tool', exp: now + 300 });
      const r2 = await auth({ lti_message_hint: otherClient });
      expect(formPost(r2.html).fields.error_description).toMatch(/issued for another client_id/);
    });
  });

  it('publishes its keys at /jwks and /.well-known/jwks.json, and keeps them and the seed across a restart', async () => {
    const a = await (await fetch(`${h.url}/jwks`)).json();
    const b = await (await fetch(`${h.url}/.well-known/jwks.json`)).json();
    expect(a).toEqual(b);
    const { startDevLms } = await import('../../src/devlms/index.js');
    const count = async () =>
      (await h.db.pool.query<{ n: number }>('select (select count(*) from devlms.resource_links)::int + (select count(*) from devlms.line_items)::int as n')).rows[0]!.n;
    const before = await count();
    const again = await startDevLms({ pool: h.db.pool, toolUrl: h.tool.url });
    try {
      await again.devlms.seed();
      expect(await (await fetch(`${again.url}/jwks`)).json()).toEqual(a);
      expect(await count()).toBe(before);
    } finally {
      await again.close();
    }
  });
});
