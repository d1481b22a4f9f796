import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { sql } from 'drizzle-orm';
import { startStack, type Stack } from './helpers/stack.js';
import type { ToolSession } from './helpers/lti-browser.js';
import { openIdConfigurationFor, startFakeLms, startPrefixPortPair, type FakeLms } from './helpers/fake-lms.js';
import { textOf } from './helpers/html.js';
import { createRegistrationInvite } from '../src/lti/dynamic-registration.js';
import { registerPlatform } from '../src/lti/registration.service.js';

/**
 * The probe's tenant takeover, replayed: an administrator of one tenant (the dev LMS) makes a registration link
 * and serves a configuration that names another tenant's issuer. Tenant A is a registered "LMS" at
 * http://127.0.0.1:<n>; the attacker serves from http://127.0.0.1:<n><d>, whose URL starts with A's issuer.
 */
describe('dynamic registration never takes over a registered LMS', () => {
  let stack: Stack;
  let admin: ToolSession;
  let victim: FakeLms;
  let attacker: FakeLms;
  let newcomer: FakeLms;
  const registration = (clientId: string, deploymentId = 'dep-1') => ({ client_id: clientId, 'https://purl.imsglobal.org/spec/lti-tool-configuration': { deployment_id: deploymentId } });

  beforeAll(async () => {
    stack = await startStack();
    admin = await stack.browser().launch(stack.devlmsUrl, 'admin');
    ({ victim, attacker } = await startPrefixPortPair());
    newcomer = await startFakeLms();
    await registerPlatform(
      { db: stack.db.db, lti: stack.tool.lti.lti, platforms: stack.tool.tool!.platforms, allowInsecureLocalhost: true },
      { issuer: victim.url, clientId: 'victim-client', name: 'Tenant A', authenticationEndpoint: `${victim.url}/auth`, accesstokenEndpoint: `${victim.url}/token`, jwksUrl: `${victim.url}/jwks`, deploymentIds: ['a-1'] },
      'test',
    );
  }, 60_000);
  afterAll(async () => {
    await Promise.all([victim?.close(), attacker?.close(), newcomer?.close()]);
    await stack?.close();
  });

  const adminInvite = async () => {
    const res = await admin.post('/admin/registration-invites', { note: 'probe', becomes: 'platform' }, { htmx: true });
    expect(res.status).toBe(200);
    return res.html.match(/<code class="copyable">([^<]+)<\/code>/)![1]!;
  };
  const operatorInvite = async (issuer: string | null) =>
    (await createRegistrationInvite(stack.db.db, stack.toolUrl, { createdBy: 'cli (test)', createdByPlatformId: null, issuer, joinPlatformId: null })).url;
  const open = (inviteUrl: string, configUrl: string) => stack.browser().request(`${inviteUrl}?openid_configuration=${encodeURIComponent(configUrl)}`);
  const tenantA = async () => {
    const p = await stack.tool.lti.lti.getPlatform(victim.url, 'victim-client');
    if (!p) throw new Error('tenant A is gone');
    const deployments = await stack.db.db.execute<{ deployment_id: string }>(sql`
      select d.deployment_id from lti_deployments d join lti_platforms p on p.id = d.platform_id where p.issuer = ${victim.url} and p.client_id = 'victim-client'`);
    return { auth: await p.platformAuthEndpoint(), keys: await p.platformAuthConfig(), deployments: deployments.rows.map((r) => r.deployment_id) };
  };
  const platformsOf = async (issuer: string) => (await stack.db.db.execute<{ client_id: string }>(sql`select client_id from lti_platforms where issuer = ${issuer} order by id`)).rows.map((r) => r.client_id);

  it('refuses a configuration served from a port that merely starts like the issuer\'s (the probe)', async () => {
    expect(attacker.url.startsWith(victim.url)).toBe(true);
    const before = await tenantA();
    attacker.configuration = openIdConfigurationFor(victim.url, attacker.url);
    attacker.registration = { status: 200, body: registration('victim-client', 'evil') };
    const page = await open(await adminInvite(), `${attacker.url}/.well-known/openid-configuration`);
    expect(page.status).toBe(400);
    expect(textOf(page.html)).toContain(`names issuer ${victim.url}, but was not served from under that URL`);
    expect(attacker.requests.filter((r) => r.method === 'POST')).toEqual([]);
    expect(await tenantA()).toEqual(before);
    expect(before.auth).toBe(`${victim.url}/auth`);
  });

  it('refuses an LMS other than the one an administrator\'s link is for, before registering anything there', async () => {
    attacker.requests.length = 0;
    attacker.configuration = openIdConfigurationFor(attacker.url);
    attacker.registration = { status: 200, body: registration('attacker-client') };
    const page = await open(await adminInvite(), `${attacker.url}/.well-known/openid-configuration`);
    expect(page.status).toBe(403);
    expect(textOf(page.html)).toContain(`This registration link is for the LMS ${new URL(stack.devlmsUrl).origin}`);
    expect(attacker.requests.map((r) => r.method)).toEqual(['GET']);
    expect(await platformsOf(attacker.url)).toEqual([]);
  });

  it('refuses, on an operator\'s open link, an issuer that is already registered', async () => {
    victim.requests.length = 0;
    victim.configuration = openIdConfigurationFor(victim.url);
    victim.registration = { status: 200, body: registration('victim-client-2') };
    const page = await open(await operatorInvite(null), `${victim.url}/.well-known/openid-configuration`);
    expect(page.status).toBe(409);
    expect(textOf(page.html)).toContain(`The LMS ${victim.url} is already registered`);
    expect(victim.requests.map((r) => r.method)).toEqual(['GET']);
    expect(await platformsOf(victim.url)).toEqual(['victim-client']);
  });

  it('never changes an existing issuer and client, even through a link made for that issuer', async () => {
    const before = await tenantA();
    victim.configuration = { ...openIdConfigurationFor(victim.url), authorization_endpoint: `${victim.url}/moved-auth` };
    victim.registration = { status: 200, body: registration('victim-client', 'a-9') };
    const page = await open(await operatorInvite(victim.url), `${victim.url}/.well-known/openid-configuration`);
    expect(page.status).toBe(409);
    expect(textOf(page.html)).toContain('is already registered with client id victim-client; its registration was not changed');
    expect(await tenantA()).toEqual(before);
  });

  it('registers another client of the same LMS through a link made for it', async () => {
    victim.configuration = openIdConfigurationFor(victim.url);
    victim.registration = { status: 200, body: registration('victim-client-2', 'a-2') };
    const page = await open(await operatorInvite(victim.url), `${victim.url}/.well-known/openid-configuration`);
    expect(page.status).toBe(200);
    expect(await platformsOf(victim.url)).toEqual(['victim-client', 'victim-client-2']);
    expect((await tenantA()).deployments).toEqual(['a-1']);
  });

  it('records each refusal on the link and in the audit log, and shows it to the administrators who made it', async () => {
    const refusals = await stack.db.db.execute<{ n: number }>(sql`select count(*)::int as n from audit_log where action = 'platform.dynamic_registration_refused'`);
    expect(refusals.rows[0]!.n).toBeGreaterThanOrEqual(4);
    const page = await admin.get('/admin/platforms');
    expect(textOf(page.html)).toMatch(/Refused: This registration link is for the LMS/);
    expect(textOf(page.html)).toMatch(/Refused: The LMS configuration names issuer/);
  });

  describe('calls only the LMS it registers (SSRF)', () => {
    it('never posts to a registration endpoint on another host than the issuer', async () => {
      attacker.requests.length = 0;
      newcomer.configuration = { ...openIdConfigurationFor(newcomer.url), registration_endpoint: `${attacker.url}/register` };
      const page = await open(await operatorInvite(null), `${newcomer.url}/.well-known/openid-configuration`);
      expect(page.status).toBe(400);
      expect(textOf(page.html)).toContain('registration_endpoint is not on the same host as its issuer');
      expect(attacker.requests).toEqual([]);
    });

    it('answers every unreachable or wrong LMS with the same words, whatever is (or is not) listening', async () => {
      const targets = [
        'https://169.254.169.254/latest/meta-data/',
        'http://127.0.0.1:1/.well-known/openid-configuration',
        `${attacker.url}/not-an-lms`,
        `${attacker.url}/redirect`,
        'https://[::ffff:a9fe:a9fe]/latest/',
      ];
      attacker.configuration = { ...openIdConfigurationFor(attacker.url), redirect_to: `${newcomer.url}/.well-known/openid-configuration` };
      newcomer.requests.length = 0;
      const texts = [];
      for (const target of targets) {
        const page = await open(await operatorInvite(null), target);
        expect(page.status).toBe(502);
        texts.push(textOf(page.html).replace(/reference [0-9a-f]+/, 'reference …'));
      }
      expect(new Set(texts).size).toBe(1);
      expect(texts[0]).toContain('The LMS did not answer the registration as an LTI platform does.');
      // The redirect was not followed.
      expect(newcomer.requests).toEqual([]);
    });
  });
});
