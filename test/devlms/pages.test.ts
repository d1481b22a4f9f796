import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify, type JSONWebKeySet } from 'jose';
import { createDevLms, SEED } from '../../src/devlms/index.js';
import { newRsaKey } from './helpers/fake-tool.js';
import { authRequestFor, CLIENT_ID, startHarness, type Harness } from './helpers/harness.js';

const LTI = 'https://purl.imsglobal.org/spec/lti/claim/';

describe('dev LMS: pages and test hooks', () => {
  let h: Harness;
  let jwks: ReturnType<typeof createLocalJWKSet>;
  beforeAll(async () => {
    h = await startHarness();
    jwks = createLocalJWKSet((await (await fetch(`${h.url}/jwks`)).json()) as JSONWebKeySet);
  });
  afterAll(async () => {
    await h.close();
  });

  const mint = (body: Record<string, unknown>) =>
    fetch(`${h.url}/__test/id-token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

  it('renders the course page: a launch button per person and task, Add activity for the instructor, gradebook, registration form', async () => {
    const res = await fetch(`${h.url}/`);
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain('<html lang="en">');
    expect(html).toContain('<h1>HIST 101: History 101: Revolutions</h1>');
    for (const p of SEED.people) {
      expect(html).toContain(`href="/launch/${p.login}?task=1"`);
      expect(html).toContain(`href="/launch/${p.login}?task=2"`);
      expect(html).toContain(`href="/launch/${p.login}?task=nav"`);
    }
    expect(html).toContain('href="/launch/instructor?message=deep_linking"');
    expect(html).toContain('href="/launch/admin?message=deep_linking"');
    expect(html).not.toContain('href="/launch/student1?message=deep_linking"');
    expect(html).toContain('href="/gradebook"');
    expect(html).toMatch(/<label for="registration_url">Tool registration URL<\/label>\s*<input type="url" id="registration_url" name="registration_url"/);
    expect(html).toContain(`placeholder="${h.tool.url}/lti/dynamic-registration/…"`);
    expect(html).toMatch(/<th scope="col">Task 1: Essay: Causes of the French Revolution<\/th>/);
  });

  it('renders the return page and unknown pages, escaping what it is given', async () => {
    const ret = await fetch(`${h.url}/return?lti_msg=${encodeURIComponent('<b>Saved</b>')}`);
    expect(await ret.text()).toContain('&lt;b&gt;Saved&lt;/b&gt;');
    const page = await fetch(`${h.url}/nowhere`);
    expect(page.status).toBe(404);
    expect(page.headers.get('content-type')).toMatch(/text\/html/);
    const api = await fetch(`${h.url}/api/nowhere`);
    expect(api.status).toBe(404);
    expect(await api.json()).toEqual({ error: 'not_found', error_description: expect.stringMatching(/No such endpoint/) });
  });

  it('mints a launch id_token by login, signed by the platform key', async () => {
    const res = await mint({ login: 'student1', task: 2 });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { id_token: string; claims: Record<string, unknown>; state: null; redirect_uri: string };
    expect(body.redirect_uri).toBe(`${h.tool.url}/lti/launch`);
    const { payload } = await jwtVerify(body.id_token, jwks, { issuer: h.url, audience: CLIENT_ID });
    expect(payload).toEqual(body.claims);
    expect((payload[`${LTI}resource_link`] as { id: string }).id).toBe(SEED.links[1].id);

    const dl = (await (await mint({ login: 'instructor', message: 'deep_linking' })).json()) as { claims: Record<string, unknown> };
    expect(dl.claims[`${LTI}message_type`]).toBe('LtiDeepLinkingRequest');
  });

  it('applies overrides: claims set and deleted, expiry, iat, kid and a foreign signing key', async () => {
    const res = await mint({
      login: 'student1',
      nonce: 'fixed-nonce',
      set: { aud: 'another-tool', [`${LTI}roles`]: ['http://purl.imsglobal.org/vocab/lis/v2/membership#Mentor'] },
      unset: [`${LTI}deployment_id`, 'email'],
      expiresIn: -60,
      iatOffsetSeconds: -3600,
      kid: 'unknown-kid',
    });
    const body = (await res.json()) as { id_token: string; claims: Record<string, number | string | string[]> };
    const now = Date.now() / 1000;
    expect(body.claims).toMatchObject({ aud: 'another-tool', nonce: 'fixed-nonce', [`${LTI}roles`]: ['http://purl.imsglobal.org/vocab/lis/v2/membership#Mentor'] });
    expect(body.claims).not.toHaveProperty(`${LTI}deployment_id`);
    expect(body.claims).not.toHaveProperty('email');
    expect(Math.abs((body.claims.exp as number) - (now - 60))).toBeLessThan(5);
    expect(Math.abs((body.claims.iat as number) - (now - 3600))).toBeLessThan(5);
    expect(decodeProtectedHeader(body.id_token).kid).toBe('unknown-kid');

    const noKid = (await (await mint({ login: 'student1', kid: null })).json()) as { id_token: string };
    expect(decodeProtectedHeader(noKid.id_token).kid).toBeUndefined();

    const forged = await newRsaKey();
    const signed = (await (await mint({ login: 'student1', signingKey: { ...forged.privateJwk, kid: 'attacker' } })).json()) as { id_token: string };
    expect(decodeProtectedHeader(signed.id_token).kid).toBe('attacker');
    await expect(jwtVerify(signed.id_token, createLocalJWKSet({ keys: [{ ...forged.publicJwk, kid: 'attacker' }] }))).resolves.toBeDefined();
    await expect(jwtVerify(signed.id_token, jwks)).rejects.toThrow();
  });

  it('answers a real login: the state, nonce and redirect_uri of the /auth request the tool made', async () => {
    const launchInfo = (await (await fetch(`${h.url}/__test/launch/student3?task=1`)).json()) as { loginUrl: string; params: Record<string, string> };
    expect(launchInfo.params).toMatchObject({ iss: h.url, client_id: CLIENT_ID, lti_deployment_id: '1', target_link_uri: `${h.tool.url}/lti/launch` });
    const auth = authRequestFor(h, launchInfo.loginUrl);
    const res = await mint({ authUrl: auth.toString(), set: { iss: 'https://impostor.example' } });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { state: string; redirect_uri: string; claims: Record<string, unknown> };
    expect(body.state).toBe(auth.searchParams.get('state'));
    expect(body.redirect_uri).toBe(`${h.tool.url}/lti/launch`);
    expect(body.claims).toMatchObject({ nonce: auth.searchParams.get('nonce'), iss: 'https://impostor.example', sub: SEED.people[3].sub });

    const broken = authRequestFor(h, launchInfo.loginUrl, { nonce: undefined });
    const refused = await mint({ authUrl: broken.toString() });
    expect(refused.status).toBe(400);
    expect(await refused.json()).toEqual({ error: 'invalid_request', error_description: expect.stringMatching(/nonce is missing/) });
  });

  it('refuses malformed hook requests', async () => {
    expect((await mint({})).status).toBe(400);
    expect((await mint({ login: 'student1', authUrl: 'http://x.example/auth' })).status).toBe(400);
    expect((await mint({ login: 'nobody' })).status).toBe(404);
    expect((await mint({ login: 'student1', signingKey: { kty: 'oct', k: 'AAAA' } })).status).toBe(400);
    expect((await mint({ login: 'student1', surprise: true })).status).toBe(400);
  });

  it('answers an unexpected failure with a bare 500 page and reports the error to onError', async () => {
    const reported: unknown[] = [];
    const lms = await createDevLms({ pool: h.db.pool, url: 'http://127.0.0.1:1', toolUrl: h.tool.url, seed: false, onError: (err) => reported.push(err) });
    const { default: request } = await import('supertest');
    await h.db.pool.query('alter table devlms.users rename to users_away');
    try {
      const res = await request(lms.app).get('/launch/student1');
      expect(res.status).toBe(500);
      expect(res.text).toContain('The development LMS failed unexpectedly');
      expect(res.text).not.toContain('users_away');
      expect(reported).toHaveLength(1);
    } finally {
      await h.db.pool.query('alter table devlms.users_away rename to users');
    }
  });

  it('mounts no test hook without testHooks', async () => {
    const lms = await createDevLms({ pool: h.db.pool, url: 'http://127.0.0.1:1', toolUrl: h.tool.url });
    const { default: request } = await import('supertest');
    expect((await request(lms.app).post('/__test/id-token').send({ login: 'student1' })).status).toBe(404);
    expect((await request(lms.app).post('/__faults').send({})).status).toBe(404);
    expect((await request(lms.app).get('/launch/student1')).status).toBe(200);
    expect(lms.toolRegistration()).toEqual({
      issuer: 'http://127.0.0.1:1',
      clientId: 'llm-assess-dev',
      deploymentId: '1',
      authenticationEndpoint: 'http://127.0.0.1:1/auth',
      accesstokenEndpoint: 'http://127.0.0.1:1/token',
      authorizationServer: 'http://127.0.0.1:1/token',
      jwksUrl: 'http://127.0.0.1:1/jwks',
      name: 'llm-assess Dev LMS',
    });
    await lms.close();
  });
});
