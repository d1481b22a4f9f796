import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { accessToken, CLIENT_ID, clientAssertion, requestToken, startHarness, TOKEN_SCOPES, type Harness } from './helpers/harness.js';
import { newRsaKey } from './helpers/fake-tool.js';

const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

describe('dev LMS: OAuth2 token endpoint (client credentials with a JWT client assertion)', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => {
    await h.close();
  });

  const form = async (assertion: string, scope = `${TOKEN_SCOPES.score} ${TOKEN_SCOPES.lineItem}`) => ({
    grant_type: 'client_credentials',
    client_assertion_type: JWT_BEARER,
    client_assertion: assertion,
    scope,
  });

  async function expectError(res: Response, status: number, error: string, description: RegExp) {
    expect(res.status).toBe(status);
    expect(res.headers.get('content-type')).toMatch(/application\/json/);
    const body = (await res.json()) as { error: string; error_description: string };
    expect(body).toEqual({ error, error_description: expect.stringMatching(description) });
  }

  it('issues a Bearer token for the requested scopes, fetching the tool JWKS once and caching it', async () => {
    const res = await requestToken(h, await form(await clientAssertion(h)));
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(await res.json()).toEqual({
      access_token: expect.any(String),
      token_type: 'Bearer',
      expires_in: 3600,
      scope: `${TOKEN_SCOPES.score} ${TOKEN_SCOPES.lineItem}`,
    });
    const fetches = h.tool.jwksFetches();
    await accessToken(h, [TOKEN_SCOPES.membership]);
    expect(h.tool.jwksFetches()).toBe(fetches);
  });

  it('also accepts the issuer as the assertion audience', async () => {
    const res = await requestToken(h, await form(await clientAssertion(h, { aud: h.url })));
    expect(res.status).toBe(200);
  });

  it('refuses a signature made with another key', async () => {
    const other = await newRsaKey();
    const res = await requestToken(h, await form(await clientAssertion(h, {}, { key: other.privateKey })));
    await expectError(res, 401, 'invalid_client', /signature does not verify/);
  });

  it('refuses a key id the tool JWKS does not have', async () => {
    const other = await newRsaKey();
    const res = await requestToken(h, await form(await clientAssertion(h, {}, { key: other.privateKey, kid: 'unknown-kid' })));
    await expectError(res, 401, 'invalid_client', /No key in the tool's JWKS/);
  });

  it('refuses a replayed jti', async () => {
    const assertion = await clientAssertion(h, { jti: randomUUID() });
    expect((await requestToken(h, await form(assertion))).status).toBe(200);
    await expectError(await requestToken(h, await form(assertion)), 401, 'invalid_client', /already used/);
  });

  it('refuses a wrong audience, an expired assertion, a missing jti and iss ≠ sub', async () => {
    await expectError(await requestToken(h, await form(await clientAssertion(h, { aud: 'https://elsewhere.example/token' }))), 401, 'invalid_client', /aud must be/);
    const past = Math.floor(Date.now() / 1000) - 600;
    await expectError(await requestToken(h, await form(await clientAssertion(h, { iat: past, exp: past + 60 }))), 401, 'invalid_client', /has expired/);
    await expectError(await requestToken(h, await form(await clientAssertion(h, { jti: undefined }))), 401, 'invalid_client', /no "jti" claim/);
    await expectError(await requestToken(h, await form(await clientAssertion(h, { sub: 'someone' }))), 401, 'invalid_client', /"sub" claim/);
  });

  it('refuses an unknown client and a non-RS256 assertion', async () => {
    await expectError(await requestToken(h, await form(await clientAssertion(h, { iss: 'stranger', sub: 'stranger' }))), 401, 'invalid_client', /Unknown client "stranger"/);
    await expectError(await requestToken(h, await form('not-a-jwt')), 401, 'invalid_client', /not a JWT/);
    const hs = await h.tool.sign({ iss: CLIENT_ID }, { key: new Uint8Array(32) as never, alg: 'HS256' });
    await expectError(await requestToken(h, await form(hs)), 401, 'invalid_client', /RS256/);
  });

  it("reports a tool whose JWKS cannot be fetched", async () => {
    await h.db.pool.query(
      `insert into devlms.registrations (client_id, deployment_id, name, initiate_login_uri, target_link_uri, redirect_uris, jwks_uri, scopes, source)
       select 'offline-tool', '900', 'Offline', initiate_login_uri, target_link_uri, redirect_uris, 'http://127.0.0.1:9/keys', scopes, 'dynamic'
       from devlms.registrations where client_id = $1`,
      [CLIENT_ID],
    );
    const res = await requestToken(h, await form(await clientAssertion(h, { iss: 'offline-tool', sub: 'offline-tool' })));
    await expectError(res, 401, 'invalid_client', /JWKS \(http:\/\/127\.0\.0\.1:9\/keys\) could not be fetched/);
  });

  it('refuses scopes the tool is not registered for', async () => {
    await h.db.pool.query(`update devlms.registrations set scopes = $1 where client_id = 'offline-tool'`, [[TOKEN_SCOPES.score]]);
    await h.db.pool.query(`insert into devlms.registrations (client_id, deployment_id, name, initiate_login_uri, target_link_uri, redirect_uris, jwks_uri, scopes, source)
       select 'score-only', '901', 'Score only', initiate_login_uri, target_link_uri, redirect_uris, jwks_uri, $2, 'dynamic' from devlms.registrations where client_id = $1`,
      [CLIENT_ID, [TOKEN_SCOPES.score]]);
    const res = await requestToken(h, await form(await clientAssertion(h, { iss: 'score-only', sub: 'score-only' }), `${TOKEN_SCOPES.score} ${TOKEN_SCOPES.lineItem}`));
    await expectError(res, 400, 'invalid_scope', /not registered for: .*scope\/lineitem\.$/);
  });

  it('refuses unsupported, unregistered or missing scopes', async () => {
    await expectError(await requestToken(h, await form(await clientAssertion(h), 'https://example.com/scope/everything')), 400, 'invalid_scope', /Unsupported scope/);
    await expectError(await requestToken(h, await form(await clientAssertion(h), '')), 400, 'invalid_scope', /scope is missing/);
  });

  it('refuses malformed requests with OAuth error codes', async () => {
    const good = await form(await clientAssertion(h));
    await expectError(await requestToken(h, { ...good, grant_type: 'password' }), 400, 'unsupported_grant_type', /client_credentials/);
    await expectError(await requestToken(h, { ...good, client_assertion_type: 'basic' }), 400, 'invalid_request', /client_assertion_type/);
    const { client_assertion: _, ...noAssertion } = good;
    await expectError(await requestToken(h, noAssertion), 400, 'invalid_request', /client_assertion is missing/);
    const json = await fetch(`${h.url}/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(good) });
    await expectError(json, 400, 'invalid_request', /x-www-form-urlencoded/);
  });

  it('answers injected faults, then recovers', async () => {
    h.lms.devlms.setFaults({ token: { failNext: 1, status: 503, retryAfterSeconds: 2 } });
    const failed = await requestToken(h, await form(await clientAssertion(h)));
    expect(failed.status).toBe(503);
    expect(failed.headers.get('retry-after')).toBe('2');
    expect((await requestToken(h, await form(await clientAssertion(h)))).status).toBe(200);
  });
});
