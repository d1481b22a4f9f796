import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { sql } from 'drizzle-orm';
import { AgsClient } from '../src/lti/ags.client.js';
import { AgsError } from '../src/models/grades/gradebook.js';
import { startStack, type Stack } from './helpers/stack.js';

const STUDENT1 = '8f6b2c1e-4d3a-4b5c-9e7f-1a2b3c4d5e02';

interface PostedScore {
  lineItemId: string;
  login: string;
  scoreGiven: number;
  scoreMaximum: number;
  comment: string | null;
  timestamp: string;
}

/** Grade passback from the background (no live launch), against the dev LMS's AGS over real HTTP. */
describe('AGS client', () => {
  let stack: Stack;
  let platform: { issuer: string; clientId: string };
  let task: { lineItemUrl: string; lineItemsUrl: string; resourceLinkId: string };
  let ags: AgsClient;
  beforeAll(async () => {
    stack = await startStack();
    await stack.browser().launch(stack.devlmsUrl, 'instructor', { task: '1' });
    const reg = stack.devlms.devlms.toolRegistration();
    platform = { issuer: reg.issuer, clientId: reg.clientId };
    const row = await stack.db.db.execute<{ line_item_url: string; line_items_url: string; resource_link_id: string }>(
      sql`select line_item_url, line_items_url, resource_link_id from tasks order by id limit 1`,
    );
    task = { lineItemUrl: row.rows[0]!.line_item_url, lineItemsUrl: row.rows[0]!.line_items_url, resourceLinkId: row.rows[0]!.resource_link_id };
    ags = new AgsClient(stack.tool.lti.lti, { timeoutMs: 2000 });
  });
  afterAll(async () => {
    stack.devlms.devlms.setFaults({});
    await stack?.close();
  });
  const scores = async () => (await (await fetch(`${stack.devlmsUrl}/api/scores`)).json()) as PostedScore[];

  it('posts a final score with its comment to the gradebook', async () => {
    const decidedAt = new Date(Date.now() - 1000);
    await ags.submitScore(platform, task.lineItemUrl, { userId: STUDENT1, scoreGiven: 87, scoreMaximum: 100, comment: 'Assessed with AI, reviewed by your instructor.', timestamp: decidedAt });
    const posted = (await scores()).filter((s) => s.login === 'student1');
    expect(posted).toHaveLength(1);
    expect(posted[0]).toMatchObject({ lineItemId: task.lineItemUrl, scoreGiven: 87, scoreMaximum: 100, comment: 'Assessed with AI, reviewed by your instructor.' });
    expect(new Date(posted[0]!.timestamp).getTime()).toBe(decidedAt.getTime());
  });

  it('finds the existing column of a resource link instead of creating another', async () => {
    const before = await ags.listLineItems(platform, task.lineItemsUrl);
    const found = await ags.ensureLineItem(platform, { lineItemUrl: null, lineItemsUrl: task.lineItemsUrl, resourceLinkId: task.resourceLinkId, resourceId: 'llm-assess-task-1', label: 'x', scoreMaximum: 100 });
    expect(found).toBe(task.lineItemUrl);
    expect(await ags.listLineItems(platform, task.lineItemsUrl)).toHaveLength(before.length);
  });

  it('creates a column once for a task without one, and finds it on every later call', async () => {
    const spec = { lineItemUrl: null, lineItemsUrl: task.lineItemsUrl, resourceLinkId: null, resourceId: 'llm-assess-task-77', label: 'Standalone task', scoreMaximum: 10 };
    const first = await ags.ensureLineItem(platform, spec);
    const second = await ags.ensureLineItem(platform, spec);
    expect(second).toBe(first);
    const items = await ags.listLineItems(platform, task.lineItemsUrl, { resourceId: 'llm-assess-task-77' });
    expect(items).toHaveLength(1);
    expect(items[0]).toMatchObject({ label: 'Standalone task', scoreMaximum: 10, tag: 'llm-assess' });
  });

  it('reads every page of a long line item list', async () => {
    for (let i = 0; i < 12; i++) await ags.createLineItem(platform, task.lineItemsUrl, { label: `Bulk ${i}`, scoreMaximum: 5, tag: 'bulk' });
    expect(await ags.listLineItems(platform, task.lineItemsUrl, { tag: 'bulk' })).toHaveLength(12);
  });

  it('reports an LMS answering 500 as retryable, and nothing is recorded until a post succeeds', async () => {
    const before = (await scores()).length;
    stack.devlms.devlms.setFaults({ ags: { failNext: 2, status: 500 } });
    const post = () => ags.submitScore(platform, task.lineItemUrl, { userId: STUDENT1, scoreGiven: 90, scoreMaximum: 100, timestamp: new Date() });
    for (let i = 0; i < 2; i++) {
      const err = await post().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(AgsError);
      expect(err).toMatchObject({ retryable: true, status: 500 });
    }
    await post();
    expect((await scores()).length).toBe(before + 1);
  });

  it('passes on when to come back after a 429', async () => {
    stack.devlms.devlms.setFaults({ ags: { failNext: 1, status: 429, retryAfterSeconds: 7 } });
    const err = await ags.submitScore(platform, task.lineItemUrl, { userId: STUDENT1, scoreGiven: 1, scoreMaximum: 100, timestamp: new Date() }).catch((e: unknown) => e);
    expect(err).toMatchObject({ retryable: true, status: 429, retryAfterMs: 7000 });
  });

  it('times out on a slow LMS instead of hanging the job', async () => {
    stack.devlms.devlms.setFaults({ ags: { failNext: 1, status: 200, delayMs: 4000 } });
    const started = Date.now();
    const err = await ags.submitScore(platform, task.lineItemUrl, { userId: STUDENT1, scoreGiven: 1, scoreMaximum: 100, timestamp: new Date() }).catch((e: unknown) => e);
    expect(err).toMatchObject({ retryable: true });
    expect((err as Error).message).toMatch(/did not answer within 2 s/);
    expect(Date.now() - started).toBeLessThan(3500);
    stack.devlms.devlms.setFaults({});
  });

  it('needs a new token when the token endpoint fails, and says so', async () => {
    const fresh = new AgsClient(stack.tool.lti.lti, { timeoutMs: 2000 });
    stack.devlms.devlms.setFaults({ token: { failNext: 1, status: 503 } });
    const err = await fresh.submitScore(platform, task.lineItemUrl, { userId: STUDENT1, scoreGiven: 1, scoreMaximum: 100, timestamp: new Date() }).catch((e: unknown) => e);
    expect(err).toMatchObject({ retryable: true, status: 503 });
    expect((err as Error).message).toMatch(/token endpoint answered HTTP 503/);
  });

  it('refuses for good what cannot work: an unknown user, an unregistered platform, no gradebook service', async () => {
    const unknownUser = await ags.submitScore(platform, task.lineItemUrl, { userId: 'nobody', scoreGiven: 1, scoreMaximum: 100, timestamp: new Date() }).catch((e: unknown) => e);
    expect(unknownUser).toMatchObject({ retryable: false, status: 422 });
    const unknownPlatform = await ags.submitScore({ issuer: 'https://gone.example', clientId: 'x' }, task.lineItemUrl, { userId: STUDENT1, scoreGiven: 1, scoreMaximum: 100, timestamp: new Date() }).catch((e: unknown) => e);
    expect(unknownPlatform).toMatchObject({ retryable: false });
    const noService = await ags.ensureLineItem(platform, { lineItemUrl: null, lineItemsUrl: null, resourceLinkId: null, resourceId: 'x', label: 'x', scoreMaximum: 1 }).catch((e: unknown) => e);
    expect(noService).toMatchObject({ retryable: false });
    expect((noService as Error).message).toMatch(/no gradebook service/);
  });

  it('lets a newer decision win over a late retry of an older one (LMS timestamp rule)', async () => {
    const newer = new Date();
    const older = new Date(newer.getTime() - 60_000);
    await ags.submitScore(platform, task.lineItemUrl, { userId: STUDENT1, scoreGiven: 95, scoreMaximum: 100, comment: 'override', timestamp: newer });
    await ags.submitScore(platform, task.lineItemUrl, { userId: STUDENT1, scoreGiven: 70, scoreMaximum: 100, comment: 'old approval', timestamp: older });
    const gradebook = await (await fetch(`${stack.devlmsUrl}/gradebook`)).text();
    expect(gradebook).toContain('override');
    expect(gradebook).not.toContain('old approval');
  });
});
