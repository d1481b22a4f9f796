import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { authRequestFor, formPost, iframeSrc, launchPageLoginUrl, startHarness, TOKEN_SCOPES, type Harness } from './helpers/harness.js';

const TOOL_CONFIG = 'https://purl.imsglobal.org/spec/lti-tool-configuration';

describe('dev LMS: LTI Dynamic Registration (platform side)', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => {
    await h.close();
  });

  /** What ltijs' DynamicRegistration.register() posts. */
  const registration = (overrides: Record<string, unknown> = {}) => ({
    application_type: 'web',
    response_types: ['id_token'],
    grant_types: ['implicit', 'client_credentials'],
    initiate_login_uri: `${h.tool.url}/lti/login`,
    redirect_uris: [`${h.tool.url}/lti/launch`],
    client_name: 'llm-assess (dynamic)',
    jwks_uri: `${h.tool.url}/lti/keys`,
    token_endpoint_auth_method: 'private_key_jwt',
    scope: `${TOKEN_SCOPES.lineItem} ${TOKEN_SCOPES.score} ${TOKEN_SCOPES.membership}`,
    [TOOL_CONFIG]: {
      domain: new URL(h.tool.url).host,
      description: 'Grades learning tasks with LLMs',
      target_link_uri: `${h.tool.url}/lti/launch`,
      custom_parameters: { who: '$User.username' },
      claims: ['iss', 'sub', 'name'],
      messages: [{ type: 'LtiResourceLinkRequest' }, { type: 'LtiDeepLinkingRequest' }],
    },
    ...overrides,
  });

  /** Step 1, as a person does it on the course page: returns the one-time token from the framed URL. */
  async function startRegistration(): Promise<{ token: string; frame: URL }> {
    const res = await fetch(`${h.url}/dynamic-registration`, { method: 'POST', body: new URLSearchParams({ registration_url: `${h.tool.url}/lti/register?x=1` }) });
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain("event.data.subject !== 'org.imsglobal.lti.close'");
    const frame = new URL(iframeSrc(html, 'registration-frame'));
    return { token: frame.searchParams.get('registration_token')!, frame };
  }
  const register = (token: string | null, body: unknown) =>
    fetch(`${h.url}/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify(body),
    });

  it('publishes its OpenID configuration with the LTI platform configuration', async () => {
    const config = (await (await fetch(`${h.url}/.well-known/openid-configuration`)).json()) as Record<string, unknown>;
    expect(config).toMatchObject({
      issuer: h.url,
      authorization_endpoint: `${h.url}/auth`,
      token_endpoint: `${h.url}/token`,
      jwks_uri: `${h.url}/jwks`,
      registration_endpoint: `${h.url}/register`,
      scopes_supported: expect.arrayContaining(['openid', TOKEN_SCOPES.score, TOKEN_SCOPES.membership]),
      response_types_supported: ['id_token'],
      id_token_signing_alg_values_supported: ['RS256'],
      claims_supported: expect.arrayContaining(['sub', 'iss', 'name', 'email']),
      'https://purl.imsglobal.org/spec/lti-platform-configuration': {
        product_family_code: 'llm-assess-devlms',
        version: '1.0.0',
        messages_supported: [expect.objectContaining({ type: 'LtiResourceLinkRequest' }), expect.objectContaining({ type: 'LtiDeepLinkingRequest' })],
        variables: expect.arrayContaining(['$User.username', '$Context.id']),
        supported_claims: expect.any(Array),
      },
    });
  });

  it('frames the tool registration URL with openid_configuration and a one-time registration_token, as Moodle does', async () => {
    const { frame, token } = await startRegistration();
    expect(`${frame.origin}${frame.pathname}`).toBe(`${h.tool.url}/lti/register`);
    expect(frame.searchParams.get('x')).toBe('1');
    expect(frame.searchParams.get('openid_configuration')).toBe(`${h.url}/.well-known/openid-configuration`);
    expect(token).toMatch(/^[\w-]{40,}$/);
    const bad = await fetch(`${h.url}/dynamic-registration`, { method: 'POST', body: new URLSearchParams({ registration_url: 'javascript:alert(1)' }) });
    expect(bad.status).toBe(400);
  });

  it('registers the tool with a new client_id and deployment, which can then get tokens and be launched', async () => {
    const { token } = await startRegistration();
    const res = await register(token, registration());
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, unknown> & { client_id: string };
    expect(body).toMatchObject({
      client_id: expect.stringMatching(/^devlms-/),
      client_name: 'llm-assess (dynamic)',
      [TOOL_CONFIG]: expect.objectContaining({ deployment_id: '2', target_link_uri: `${h.tool.url}/lti/launch` }),
    });
    const clientId = body.client_id;

    // The token is one-time.
    const again = await register(token, registration());
    expect(again.status).toBe(401);

    // The new client gets AGS tokens with its assertion (same tool JWKS)…
    const now = Math.floor(Date.now() / 1000);
    const assertion = await h.tool.sign({ iss: clientId, sub: clientId, aud: `${h.url}/token`, iat: now, exp: now + 60, jti: randomUUID() });
    const tokenRes = await fetch(`${h.url}/token`, {
      method: 'POST',
      body: new URLSearchParams({ grant_type: 'client_credentials', client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: assertion, scope: TOKEN_SCOPES.score }),
    });
    expect(tokenRes.status).toBe(200);

    // …and is listed on the course page, with deep linking, and launches through its own login URL with its custom parameters.
    const course = await (await fetch(`${h.url}/`)).text();
    expect(course).toContain(`client id <code>${clientId}</code>`);
    const loginUrl = await launchPageLoginUrl(h, `/launch/instructor?client=${clientId}&message=deep_linking`);
    expect(new URL(loginUrl).searchParams.get('client_id')).toBe(clientId);
    expect(new URL(loginUrl).searchParams.get('lti_deployment_id')).toBe('2');
    const form = formPost(await (await fetch(authRequestFor(h, loginUrl))).text());
    const claims = JSON.parse(Buffer.from(form.fields.id_token!.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;
    expect(claims.aud).toBe(clientId);
    expect(claims['https://purl.imsglobal.org/spec/lti/claim/custom']).toEqual({ who: 'instructor' });
  });

  it('refuses a missing, unknown or used token, and invalid metadata without using the token up', async () => {
    expect(await (await register(null, registration())).json()).toEqual({ error: 'invalid_token', error_description: expect.stringMatching(/registration token/) });
    expect((await register('made-up', registration())).status).toBe(401);

    const { token } = await startRegistration();
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ jwks_uri: undefined }, /jwks_uri/],
      [{ redirect_uris: [] }, /redirect_uris: must list at least one URI/],
      [{ token_endpoint_auth_method: 'client_secret_basic' }, /private_key_jwt/],
      [{ grant_types: ['implicit'] }, /client_credentials/],
      [{ scope: 'https://example.com/everything' }, /scope: contains a scope/],
      [{ [TOOL_CONFIG]: { domain: 'x', messages: [] } }, /target_link_uri/],
      [{ [TOOL_CONFIG]: { domain: 'x', target_link_uri: `${h.tool.url}/lti/launch`, messages: [{ type: 'LtiSubmissionReviewRequest' }] } }, /not a message type this platform supports/],
    ];
    for (const [overrides, message] of cases) {
      const res = await register(token, registration(overrides));
      expect(res.status).toBe(400);
      expect(await res.json()).toEqual({ error: 'invalid_client_metadata', error_description: expect.stringMatching(message) });
    }
    expect((await register(token, registration())).status).toBe(200);
  });
});
