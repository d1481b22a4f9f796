import { randomUUID } from 'node:crypto';
import { createRemoteJWKSet, jwtVerify, type JWTPayload } from 'jose';
import { startDevLms, type RunningDevLms } from '../../../src/devlms/index.js';
import { createTestDatabase, type TestDatabase } from '../../helpers/db.js';
import { startFakeTool, type FakeTool } from './fake-tool.js';

export const CLIENT_ID = 'llm-assess-dev';
export const TOKEN_SCOPES = {
  lineItem: 'https://purl.imsglobal.org/spec/lti-ags/scope/lineitem',
  lineItemReadonly: 'https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly',
  resultReadonly: 'https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly',
  score: 'https://purl.imsglobal.org/spec/lti-ags/scope/score',
  membership: 'https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly',
};

/** A dev LMS on a real port over the test file's own database, and a fake tool registered as the seeded tool. */
export interface Harness {
  db: TestDatabase;
  tool: FakeTool;
  lms: RunningDevLms;
  url: string;
  close(): Promise<void>;
}

export async function startHarness(opts: { testHooks?: boolean } = { testHooks: true }): Promise<Harness> {
  const db = await createTestDatabase();
  const tool = await startFakeTool();
  const lms = await startDevLms({ pool: db.pool, toolUrl: tool.url, testHooks: opts.testHooks ?? true });
  return {
    db,
    tool,
    lms,
    url: lms.url,
    async close() {
      await lms.close();
      await tool.close();
      await db.drop();
    },
  };
}

/** Signs an RFC 7523 client assertion as the tool (overridable claims, for the negative cases). */
export async function clientAssertion(h: Harness, overrides: Record<string, unknown> = {}, sign: Parameters<FakeTool['sign']>[1] = {}): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return h.tool.sign({ iss: CLIENT_ID, sub: CLIENT_ID, aud: `${h.url}/token`, iat: now, exp: now + 60, jti: randomUUID(), ...overrides }, sign);
}

export async function requestToken(h: Harness, form: Record<string, string>): Promise<Response> {
  return fetch(`${h.url}/token`, { method: 'POST', body: new URLSearchParams(form) });
}

/** An access token for these scopes, obtained like ltijs does. */
export async function accessToken(h: Harness, scopes: string[]): Promise<string> {
  const res = await requestToken(h, {
    grant_type: 'client_credentials',
    client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
    client_assertion: await clientAssertion(h),
    scope: scopes.join(' '),
  });
  if (res.status !== 200) throw new Error(`token request failed: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { access_token: string }).access_token;
}

const ENTITIES: Record<string, string> = { '&amp;': '&', '&lt;': '<', '&gt;': '>', '&quot;': '"', '&#39;': "'" };
export function unescapeHtml(s: string): string {
  return s.replace(/&(amp|lt|gt|quot|#39);/g, (m) => ENTITIES[m]!);
}

export function iframeSrc(html: string, id = 'tool-frame'): string {
  const tag = new RegExp(`<iframe[^>]*id="${id}"[^>]*>`).exec(html)?.[0];
  const src = tag && /src="([^"]*)"/.exec(tag)?.[1];
  if (!src) throw new Error(`no iframe #${id} in page`);
  return unescapeHtml(src);
}

/** The hidden fields and action of the form_post page /auth answers. */
export function formPost(html: string): { action: string; fields: Record<string, string> } {
  const action = /<form method="post" action="([^"]*)"/.exec(html)?.[1];
  if (!action) throw new Error(`no form_post form in page:\n${html.slice(0, 500)}`);
  const fields: Record<string, string> = {};
  for (const m of html.matchAll(/<input type="hidden" name="([^"]*)" value="([^"]*)">/g)) fields[unescapeHtml(m[1]!)] = unescapeHtml(m[2]!);
  return { action: unescapeHtml(action), fields };
}

/** What ltijs does at its login route: the /auth request built from the login initiation parameters. */
export function authRequestFor(h: Harness, loginUrl: string, overrides: Record<string, string | undefined> = {}): URL {
  const login = new URL(loginUrl);
  const p = login.searchParams;
  const auth = new URL(`${h.url}/auth`);
  const params: Record<string, string | undefined> = {
    response_type: 'id_token',
    response_mode: 'form_post',
    id_token_signed_response_alg: 'RS256',
    scope: 'openid',
    client_id: p.get('client_id') ?? undefined,
    redirect_uri: p.get('target_link_uri')!.split('?')[0],
    login_hint: p.get('login_hint') ?? undefined,
    nonce: `nonce-${randomUUID()}`,
    prompt: 'none',
    state: `state-${randomUUID()}`,
    lti_message_hint: p.get('lti_message_hint') ?? undefined,
    lti_deployment_id: p.get('lti_deployment_id') ?? undefined,
    ...overrides,
  };
  for (const [k, v] of Object.entries(params)) if (v !== undefined) auth.searchParams.set(k, v);
  return auth;
}

/** Step 1 of a launch: the LMS page for a person; returns the login initiation URL its iframe opens. */
export async function launchPageLoginUrl(h: Harness, path: string): Promise<string> {
  const res = await fetch(`${h.url}${path}`);
  if (res.status !== 200) throw new Error(`${path}: ${res.status}`);
  return iframeSrc(await res.text());
}

/** A whole launch, as a browser + ltijs would do it: launch page → tool login → /auth → form_post fields. */
export async function launch(h: Harness, path: string): Promise<{ idToken: string; claims: JWTPayload; state: string; nonce: string; action: string }> {
  const auth = authRequestFor(h, await launchPageLoginUrl(h, path));
  const res = await fetch(auth);
  const html = await res.text();
  if (res.status !== 200) throw new Error(`/auth: ${res.status} ${html.slice(0, 300)}`);
  const form = formPost(html);
  if (!form.fields.id_token) throw new Error(`/auth refused: ${JSON.stringify(form.fields)}`);
  const { payload } = await jwtVerify(form.fields.id_token, createRemoteJWKSet(new URL(`${h.url}/jwks`)), { issuer: h.url, audience: CLIENT_ID });
  return { idToken: form.fields.id_token, claims: payload, state: form.fields.state!, nonce: auth.searchParams.get('nonce')!, action: form.action };
}
