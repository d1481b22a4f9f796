import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { newRsaKey } from './helpers/fake-tool.js';
import { CLIENT_ID, launch, startHarness, type Harness } from './helpers/harness.js';

const LTI = 'https://purl.imsglobal.org/spec/lti/claim/';
const DL = 'https://purl.imsglobal.org/spec/lti-dl/claim/';

describe('dev LMS: deep linking', () => {
  let h: Harness;
  let data: string;
  beforeAll(async () => {
    h = await startHarness();
    const { claims } = await launch(h, '/launch/instructor?message=deep_linking');
    data = (claims[`${DL}deep_linking_settings`] as { data: string }).data;
  });
  afterAll(async () => {
    await h.close();
  });

  /** The response a tool (ltijs' createDeepLinkingForm) signs. */
  function response(overrides: Record<string, unknown> = {}): Record<string, unknown> {
    const now = Math.floor(Date.now() / 1000);
    return {
      iss: CLIENT_ID,
      aud: h.url,
      iat: now,
      exp: now + 60,
      nonce: randomUUID(),
      [`${LTI}deployment_id`]: '1',
      [`${LTI}message_type`]: 'LtiDeepLinkingResponse',
      [`${LTI}version`]: '1.3.0',
      [`${DL}data`]: data,
      [`${DL}content_items`]: [
        {
          type: 'ltiResourceLink',
          title: 'Source analysis: Declaration of the Rights of Man',
          text: 'Analyse the 1789 declaration.',
          url: `${h.tool.url}/lti/launch?task=source-analysis`,
          custom: { task_id: '42' },
          lineItem: { label: 'Source analysis', scoreMaximum: 20, resourceId: 'task-42', tag: 'source-analysis' },
        },
      ],
      [`${DL}msg`]: 'Your activity was created.',
      ...overrides,
    };
  }
  const post = async (jwt: string | undefined) =>
    fetch(`${h.url}/deep_link_return`, { method: 'POST', body: new URLSearchParams(jwt === undefined ? {} : { JWT: jwt }) });

  it('creates a resource link and its line item, then launches it like any task', async () => {
    const res = await post(await h.tool.sign(response()));
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain('<h1>Added Source analysis: Declaration of the Rights of Man</h1>');
    expect(html).toContain('Your activity was created.');

    const course = await (await fetch(`${h.url}/`)).text();
    expect(course).toContain('Task 3: Source analysis: Declaration of the Rights of Man');

    const { claims } = await launch(h, '/launch/student1?task=3');
    expect(claims[`${LTI}target_link_uri`]).toBe(`${h.tool.url}/lti/launch?task=source-analysis`);
    expect(claims[`${LTI}resource_link`]).toEqual({ id: expect.any(String), title: 'Source analysis: Declaration of the Rights of Man', description: 'Analyse the 1789 declaration.' });
    expect(claims[`${LTI}custom`]).toEqual(expect.objectContaining({ task_id: '42', username: 'student1' }));
    const ags = claims['https://purl.imsglobal.org/spec/lti-ags/claim/endpoint'] as { lineitem: string };
    const row = await h.db.pool.query('select label, score_maximum, resource_id, tag, resource_link_id from devlms.line_items where id = $1', [Number(ags.lineitem.split('/').pop())]);
    expect(row.rows[0]).toEqual({ label: 'Source analysis', score_maximum: 20, resource_id: 'task-42', tag: 'source-analysis', resource_link_id: (claims[`${LTI}resource_link`] as { id: string }).id });
  });

  it("shows the tool's error message, under either spelling of the errormsg claim", async () => {
    for (const claim of [`${DL}errormsg`, `${DL}errormsg `]) {
      const res = await post(await h.tool.sign(response({ [`${DL}content_items`]: [], [`${DL}msg`]: undefined, [claim]: 'No task was selected.' })));
      expect(res.status).toBe(200);
      const html = await res.text();
      expect(html).toContain('<h1>Nothing was added</h1>');
      expect(html).toContain('No task was selected.');
    }
  });

  it('refuses invalid responses with a clear 400 page', async () => {
    const other = await newRsaKey();
    const items = (n: number) => Array.from({ length: n }, (_, i) => ({ type: 'ltiResourceLink', title: `T${i}` }));
    const cases: [string | undefined, RegExp][] = [
      [undefined, /form field &quot;JWT&quot; is required/],
      ['garbage', /not a JWT/],
      [await h.tool.sign(response(), { key: other.privateKey }), /signature does not verify/],
      [await h.tool.sign(response({ aud: 'https://other-lms.example' })), /aud must be/],
      [await h.tool.sign(response({ iss: 'stranger' })), /not the client_id of a registered tool/],
      [await h.tool.sign(response({ exp: Math.floor(Date.now() / 1000) - 120 })), /has expired/],
      [await h.tool.sign(response({ [`${LTI}message_type`]: 'LtiResourceLinkRequest' })), /message_type: must be &quot;LtiDeepLinkingResponse&quot;/],
      [await h.tool.sign(response({ [`${DL}data`]: undefined })), /data: is required/],
      [await h.tool.sign(response({ [`${DL}data`]: `${data}x` })), /deep-linking data is not one this platform issued/],
      [await h.tool.sign(response({ [`${LTI}deployment_id`]: '7' })), /deployment_id &quot;7&quot;/],
      [await h.tool.sign(response({ nonce: undefined })), /nonce: is required/],
      [await h.tool.sign(response({ [`${DL}content_items`]: items(2) })), /accept_multiple is false/],
      [await h.tool.sign(response({ [`${DL}content_items`]: [{ type: 'file', url: 'https://x.example/f.pdf' }] })), /content_items\[0\]: type: must be &quot;ltiResourceLink&quot;/],
      [await h.tool.sign(response({ [`${DL}content_items`]: [{ type: 'ltiResourceLink', lineItem: { scoreMaximum: 0 } }] })), /lineItem.scoreMaximum: must be greater than 0/],
    ];
    for (const [jwt, message] of cases) {
      const res = await post(jwt);
      const html = await res.text();
      expect([res.status, html.match(message) ? 'ok' : html.replace(/[\s\S]*<div class="error" role="alert"><p>/, '').slice(0, 200)]).toEqual([400, 'ok']);
    }
  });

  it('refuses a replayed response', async () => {
    const jwt = await h.tool.sign(response({ [`${DL}content_items`]: [] }));
    expect((await post(jwt)).status).toBe(200);
    const again = await post(jwt);
    expect(again.status).toBe(400);
    expect(await again.text()).toMatch(/already received/);
  });
});
