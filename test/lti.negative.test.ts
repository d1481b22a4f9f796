import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { sql } from 'drizzle-orm';
import { exportJWK, generateKeyPair } from 'jose';
import { startStack, type Stack } from './helpers/stack.js';
import { textOf } from './helpers/html.js';
import { launchWith } from './helpers/launches.js';
import type { LtiBrowser, Page } from './helpers/lti-browser.js';

const LTI = 'https://purl.imsglobal.org/spec/lti/claim/';

/**
 * Every refusal of the ltijs.md checklist, over the real flow: the tool's login sets its state cookie, the dev
 * LMS mints a token (valid, or broken in one way) answering that login, and the browser posts it. Each case
 * must end in a clear error page with the right status, and leave the tool's tenant data unchanged.
 */
describe('LTI launch refusals', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack();
  });
  afterAll(async () => {
    await stack?.close();
  });

  async function counts() {
    const r = await stack.db.db.execute<{ users: number; courses: number; memberships: number; tasks: number }>(sql`
      select (select count(*)::int from users) as users, (select count(*)::int from courses) as courses,
             (select count(*)::int from memberships) as memberships, (select count(*)::int from tasks) as tasks`);
    return r.rows[0]!;
  }

  async function mint(body: Record<string, unknown>): Promise<{ id_token: string; state: string; redirect_uri: string }> {
    const res = await fetch(`${stack.devlmsUrl}/__test/id-token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    expect(res.status).toBe(200);
    return (await res.json()) as { id_token: string; state: string; redirect_uri: string };
  }

  /** A login through the tool, answered by a token minted with the given changes, posted by the same browser. */
  async function attempt(changes: Record<string, unknown>, login = 'student1'): Promise<{ page: Page; browser: LtiBrowser }> {
    const browser = stack.browser();
    const { authUrl } = await browser.startLogin(stack.devlmsUrl, login, { task: '1' });
    const token = await mint({ authUrl, ...changes });
    const page = await browser.request(token.redirect_uri, { form: { id_token: token.id_token, state: token.state } });
    return { page, browser };
  }

  async function expectRefused(changes: Record<string, unknown>, status: number, message: RegExp) {
    const before = await counts();
    const { page } = await attempt(changes);
    expect(page.status).toBe(status);
    expect(textOf(page.html)).toMatch(message);
    expect(page.html).not.toMatch(/at \w+ \(|node_modules|Error: /); // never a stack trace
    expect(await counts()).toEqual(before);
  }

  it('accepts an unmodified minted token (the control for every case below)', async () => {
    const { page } = await attempt({});
    expect(page.status).toBe(200);
    expect(new URL(page.url).pathname).toMatch(/^\/student\/tasks\/\d+$/);
  });

  it('refuses a wrong audience', () => expectRefused({ set: { aud: 'some-other-tool' } }, 401, /not registered with llm-assess/));

  it('refuses several audiences whose authorized party is not this tool', () =>
    expectRefused({ set: { aud: ['llm-assess-dev', 'other-tool'], azp: 'other-tool' } }, 401, /authorized party/));

  it('refuses a wrong issuer', () => expectRefused({ set: { iss: 'https://evil.example' } }, 401, /not registered with llm-assess/));

  it('refuses an expired token', () => expectRefused({ expiresIn: -120 }, 401, /expired/));

  it('refuses a token issued too long ago', () => expectRefused({ iatOffsetSeconds: -3600 }, 401, /too old/));

  it('refuses a token issued in the future', () => expectRefused({ iatOffsetSeconds: 3600, expiresIn: 7200 }, 401, /too old or not yet valid/));

  it('refuses an unknown key id', () => expectRefused({ kid: 'no-such-key' }, 401, /no key with id "no-such-key"/));

  it('refuses a bad signature (signed by another key under the platform kid)', async () => {
    const { privateKey } = await generateKeyPair('RS256', { extractable: true });
    const jwk = await exportJWK(privateKey);
    const keys = (await (await fetch(`${stack.devlmsUrl}/jwks`)).json()) as { keys: Array<{ kid: string }> };
    await expectRefused({ signingKey: { ...jwk, kid: keys.keys[0]!.kid } }, 401, /signature is not valid/);
  });

  it('refuses an unsupported message type', () => expectRefused({ set: { [`${LTI}message_type`]: 'LtiSubmissionReviewRequest' } }, 401, /message_type/));

  it('refuses a token missing a required claim', async () => {
    await expectRefused({ unset: [`${LTI}roles`] }, 401, /lti\/claim\/roles/);
    await expectRefused({ unset: [`${LTI}deployment_id`] }, 401, /deployment_id/);
    await expectRefused({ unset: [`${LTI}resource_link`] }, 401, /resource_link/);
    await expectRefused({ unset: ['sub'] }, 401, /invalid/);
    await expectRefused({ set: { [`${LTI}version`]: '1.1' } }, 401, /version/);
  });

  it('refuses claims larger than any LMS sends, before they reach a cookie or the database', async () => {
    for (const [length, message] of [[100_000, /id_token is larger than llm-assess accepts/], [10_000, /a claim larger than llm-assess accepts: sub/]] as const) {
      const { page, browser } = await attempt({ set: { sub: 'x'.repeat(length) } });
      expect(page.status).toBe(401);
      expect(textOf(page.html)).toMatch(message);
      expect(browser.jar.header(stack.toolUrl).length).toBeLessThan(2_000);
    }
    await expectRefused({ set: { [`${LTI}context`]: { id: 'c-1', title: 't'.repeat(2_001) } } }, 401, /claim larger than llm-assess accepts: lti\/claim\/context\.title/);
    await expectRefused({ set: { [`${LTI}roles`]: Array.from({ length: 101 }, (_, i) => `role-${i}`) } }, 401, /claim larger than llm-assess accepts: lti\/claim\/roles/);
    await expectRefused({ set: { [`${LTI}custom`]: { blob: 'b'.repeat(70_000) } } }, 401, /id_token is larger than llm-assess accepts \(64 KB\)/);
    // A long title that a real LMS sends (Moodle allows 1,333 characters) is fine.
    const { page: ok } = await attempt({ set: { [`${LTI}resource_link`]: { id: 'essay-1', title: 'T'.repeat(1_333) } } });
    expect(ok.status).toBe(200);
  });

  it('refuses an unknown deployment, at the launch and already at the login', async () => {
    await expectRefused({ set: { [`${LTI}deployment_id`]: 'rogue-deployment' } }, 401, /Deployment "rogue-deployment" of this LMS is not allowed/);
    const browser = stack.browser();
    const { loginUrl } = await browser.startLogin(stack.devlmsUrl, 'student1');
    const url = new URL(loginUrl);
    url.searchParams.set('lti_deployment_id', 'rogue-deployment');
    const page = await browser.request(url.href, { follow: false });
    expect(page.status).toBe(401);
    expect(textOf(page.html)).toMatch(/Deployment "rogue-deployment"/);
  });

  it('refuses a nonce that does not answer this browser\'s login', () => expectRefused({ nonce: 'chosen-by-attacker' }, 401, /does not answer the login/));

  it('refuses a replayed token, and a replayed nonce even after ten seconds', async () => {
    const browser = stack.browser();
    const { authUrl } = await browser.startLogin(stack.devlmsUrl, 'student1', { task: '1' });
    const token = await mint({ authUrl });
    const beforeLaunch = browser.jar.clone(); // the state cookie, as an attacker replaying the exchange would have it
    const first = await browser.request(token.redirect_uri, { form: { id_token: token.id_token, state: token.state } });
    expect(first.status).toBe(200);

    // Same browser again: the state cookie was spent.
    const again = await browser.request(token.redirect_uri, { form: { id_token: token.id_token, state: token.state } });
    expect(again.status).toBe(401);
    // With the state cookie restored: the nonce was spent.
    browser.jar = beforeLaunch.clone();
    const replay = await browser.request(token.redirect_uri, { form: { id_token: token.id_token, state: token.state } });
    expect(replay.status).toBe(401);
    expect(textOf(replay.html)).toMatch(/already used/);

    // ltijs forgets nonces after 10 s; we keep them as long as a token could be accepted.
    await new Promise((r) => setTimeout(r, 10_500));
    const fresh = await mint({ authUrl }); // a new token (new iat/exp) reusing the same login's nonce
    browser.jar = beforeLaunch.clone();
    const late = await browser.request(fresh.redirect_uri, { form: { id_token: fresh.id_token, state: fresh.state } });
    expect(late.status).toBe(401);
    expect(textOf(late.html)).toMatch(/already used/);
  }, 30_000);

  it('refuses a launch whose state cookie is missing or does not match', async () => {
    const browser = stack.browser();
    const { authUrl } = await browser.startLogin(stack.devlmsUrl, 'student1', { task: '1' });
    const token = await mint({ authUrl });
    browser.jar.remove('localhost', (c) => c.name.startsWith('state'));
    const noCookie = await browser.request(token.redirect_uri, { form: { id_token: token.id_token, state: token.state } });
    expect(noCookie.status).toBe(401);
    expect(textOf(noCookie.html)).toMatch(/did not send back the login cookie/);

    const other = stack.browser();
    const second = await other.startLogin(stack.devlmsUrl, 'student1', { task: '1' });
    const token2 = await mint({ authUrl: second.authUrl });
    const wrongState = await other.request(token2.redirect_uri, { form: { id_token: token2.id_token, state: 'not-the-state-we-set' } });
    expect(wrongState.status).toBe(401);
    const noState = await other.request(token2.redirect_uri, { form: { id_token: token2.id_token } });
    expect(noState.status).toBe(401);
  });

  it('shows the LMS\'s own error when it answers the login with one', async () => {
    const browser = stack.browser();
    const page = await browser.request(`${stack.toolUrl}/lti/launch`, { form: { error: 'login_required', error_description: 'The user is not logged in', state: 'x' } });
    expect(page.status).toBe(401);
    expect(textOf(page.html)).toContain('login_required: The user is not logged in');
  });

  it('refuses logins from unknown platforms, for other targets, or with missing parameters', async () => {
    const browser = stack.browser();
    const { loginUrl } = await browser.startLogin(stack.devlmsUrl, 'student1');
    const unknown = new URL(loginUrl);
    unknown.searchParams.set('iss', 'https://unknown-lms.example');
    let page = await browser.request(unknown.href, { follow: false });
    expect(page.status).toBe(400);
    expect(textOf(page.html)).toMatch(/not registered with llm-assess/);

    const elsewhere = new URL(loginUrl);
    elsewhere.searchParams.set('target_link_uri', 'https://phishing.example/lti/launch');
    page = await browser.request(elsewhere.href, { follow: false });
    expect(page.status).toBe(400);
    expect(textOf(page.html)).toMatch(/not this tool's launch URL/);

    page = await browser.request(`${stack.toolUrl}/lti/login?iss=${encodeURIComponent(stack.devlmsUrl)}`, { follow: false });
    expect(page.status).toBe(400);
    expect(textOf(page.html)).toMatch(/missing or invalid parameters \(login_hint, target_link_uri\)/);
  });

  it('refuses an id_token posted anywhere but the launch route', async () => {
    const browser = stack.browser();
    const { authUrl } = await browser.startLogin(stack.devlmsUrl, 'student1', { task: '1' });
    const token = await mint({ authUrl });
    const page = await browser.request(`${stack.toolUrl}/instructor`, { form: { id_token: token.id_token, state: token.state } });
    expect(page.status).toBe(401);
  });

  it('turns away a role that gives no access, without recording anyone', async () => {
    const before = await counts();
    const { page } = await attempt({ set: { [`${LTI}roles`]: ['http://purl.imsglobal.org/vocab/lis/v2/membership#Mentor'] } });
    expect(page.status).toBe(403);
    expect(textOf(page.html)).toMatch(/Your role in this course \(Mentor\) does not give access/);
    expect(await counts()).toEqual(before);
  });

  describe('sessions after the launch', () => {
    it('refuses an ltik without its session cookie', async () => {
      const session = await stack.browser().launch(stack.devlmsUrl, 'student1', { task: '1' });
      const stranger = stack.browser();
      const page = await stranger.request(`${stack.toolUrl}/student`, { headers: { authorization: `Bearer ${session.ltik}` } });
      expect(page.status).toBe(401);
      expect(textOf(page.html)).toMatch(/session was not found in this browser/);
    });

    it('refuses a tampered ltik', async () => {
      const session = await stack.browser().launch(stack.devlmsUrl, 'student1', { task: '1' });
      const [h, p, s] = session.ltik.split('.');
      const claims = JSON.parse(Buffer.from(p!, 'base64url').toString());
      const forged = `${h}.${Buffer.from(JSON.stringify({ ...claims, user: 'someone-else' })).toString('base64url')}.${s}`;
      const page = await session.browser.request(`${stack.toolUrl}/student`, { headers: { authorization: `Bearer ${forged}` } });
      expect(page.status).toBe(401);
      expect(textOf(page.html)).toMatch(/session token is not valid/);
    });

    it('ends the first person\'s session when a second person launches in the same browser', async () => {
      const browser = stack.browser();
      const first = await browser.launch(stack.devlmsUrl, 'student1', { task: '1' });
      const second = await browser.launch(stack.devlmsUrl, 'student2', { task: '1' });
      expect((await second.get('/api/session')).json<{ role: string }>().role).toBe('student');
      const stale = await first.get('/api/session');
      expect(stale.status).toBe(401);
      expect(stale.json<{ error: { code: string } }>().error.code).toBe('session_not_found');
    });

    it('ends sessions of a deployment an administrator revokes', async () => {
      const session = await stack.browser().launch(stack.devlmsUrl, 'student3', { task: '1' });
      const platform = await stack.db.db.execute<{ id: number }>(sql`select id from lti_platforms limit 1`);
      const platformId = platform.rows[0]!.id;
      await stack.db.db.execute(sql`insert into lti_deployments (platform_id, deployment_id) values (${platformId}, 'spare')`);
      await stack.db.db.execute(sql`delete from lti_deployments where platform_id = ${platformId} and deployment_id = '1'`);
      stack.tool.tool!.platforms.invalidate();
      try {
        const page = await session.get('/student');
        expect(page.status).toBe(401);
        expect(textOf(page.html)).toMatch(/Deployment "1" of this LMS is not allowed/);
      } finally {
        await stack.db.db.execute(sql`insert into lti_deployments (platform_id, deployment_id) values (${platformId}, '1')`);
        stack.tool.tool!.platforms.invalidate();
      }
    });
  });
});

/**
 * LTI_ADMIN_ALLOWLIST names people by issuer and sub. It used to match e-mail addresses too, and a student who set
 * an administrator's e-mail in their LMS profile became administrator of every platform.
 */
describe('the administrator allowlist', () => {
  let stack: Stack;
  const STUDENT1 = '8f6b2c1e-4d3a-4b5c-9e7f-1a2b3c4d5e02';
  const STUDENT2 = '8f6b2c1e-4d3a-4b5c-9e7f-1a2b3c4d5e03';
  beforeAll(async () => {
    stack = await startStack({ env: ({ devlmsUrl }) => ({ LTI_ADMIN_ALLOWLIST: `${devlmsUrl}#${STUDENT1},https://other-lms.example.edu#${STUDENT2}` }) });
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('makes the person with that sub at that LMS an administrator, besides their role in the course', async () => {
    const session = await stack.browser().launch(stack.devlmsUrl, 'student1', { task: '1' });
    // Their home is still the course's (issue 15): the admin panel is one "switch to" away.
    expect(new URL(session.home.url).pathname).toMatch(/^\/student\/tasks\/\d+$/);
    expect(session.home.html).toMatch(/switch to <a href="\/admin\?ltik=[^"]+">Administration<\/a>/);
    expect((await session.get('/admin')).status).toBe(200);
    expect((await session.get('/student')).status).toBe(200);
  });

  it('does not make the same sub from another LMS an administrator', async () => {
    const session = await stack.browser().launch(stack.devlmsUrl, 'student2', { task: '1' });
    expect(new URL(session.home.url).pathname).toMatch(/^\/student\/tasks\/\d+$/);
    expect((await session.get('/admin')).status).toBe(403);
  });

  it('ignores the e-mail address the LMS sends, whatever it is', async () => {
    const session = await launchWith(stack, stack.browser(), 'student3', { task: '1' }, { email: 'dana.whitfield@example.edu', name: 'Dana Whitfield' });
    expect(new URL(session.home.url).pathname).toMatch(/^\/student\/tasks\/\d+$/);
    expect((await session.get('/admin')).status).toBe(403);
  });
});
