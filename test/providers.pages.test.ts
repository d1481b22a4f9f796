import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { sql } from 'drizzle-orm';
import { startStack, type Stack } from './helpers/stack.js';
import type { ToolSession } from './helpers/lti-browser.js';
import { textOf } from './helpers/html.js';
import { markUnhealthy } from '../src/models/failover/failover.repository.js';

/**
 * The Providers page and failover on the batch pages (issue 20, item 6): the policy form with its field messages,
 * each provider's health with the reason, the Batches page's warning, and a failover batch's page naming its origin.
 */
describe('the Providers page', () => {
  let stack: Stack;
  let admin: ToolSession;
  let platformId: number;
  const FORM = { mode: 'automatic', first: 'anthropic', modelOpenai: '', modelAnthropic: 'claude-sonnet-4-6', slaMinutes: '120' };
  const settings = async () =>
    (await stack.db.db.execute<{ mode: string; provider_order: string[]; failover_models: Record<string, string>; sla_minutes: number }>(sql`
      select mode, provider_order, failover_models, sla_minutes from provider_failover_settings where platform_id = ${platformId}`)).rows;

  beforeAll(async () => {
    stack = await startStack();
    admin = await stack.browser().launch(stack.devlmsUrl, 'admin');
    platformId = Number((await stack.db.db.execute<{ platform_id: number }>(sql`select platform_id from users order by id desc limit 1`)).rows[0]!.platform_id);
  }, 60_000);
  afterAll(async () => {
    await stack?.close();
  });

  it('shows both providers healthy and the default policy, off', async () => {
    const page = await admin.get('/admin/providers');
    expect(page.status).toBe(200);
    const text = textOf(page.html);
    expect(page.html).toMatch(/<tr id="provider-openai" data-status="healthy">/);
    expect(page.html).toMatch(/<tr id="provider-anthropic" data-status="healthy">/);
    expect(text).toContain('Off: a batch that fails, expires or runs late sends its unfinished items back to the queue (the default).');
    expect(page.html).toMatch(/id="failover-off" name="mode" value="off" checked/);
    expect(await settings()).toEqual([]);
  });

  it('refuses an SLA out of range and a model of the wrong provider beside their fields, saving nothing', async () => {
    const page = await admin.post('/admin/providers', { ...FORM, slaMinutes: '5', modelOpenai: 'claude-haiku-4-5' }, { htmx: true });
    expect(page.status).toBe(422);
    expect(page.html).toMatch(/<p id="failover-sla-error" class="field-error">Enter an SLA of at least 15 minutes\.<\/p>/);
    expect(page.html).toMatch(/<p id="failover-modelOpenai-error" class="field-error">Choose one of OpenAI&#39;s models, or the same tier\.<\/p>/);
    expect(page.html).toContain('value="5"');
    expect(await settings()).toEqual([]);
  });

  it('saves the policy, audited, and says it back', async () => {
    const page = await admin.post('/admin/providers', FORM, { htmx: true });
    expect(page.status).toBe(200);
    expect(textOf(page.html)).toContain('Failover settings saved.');
    expect(await settings()).toEqual([{ mode: 'automatic', provider_order: ['anthropic', 'openai'], failover_models: { anthropic: 'claude-sonnet-4-6' }, sla_minutes: 120 }]);
    const audit = await stack.db.db.execute<{ n: number }>(sql`select count(*)::int as n from audit_log where platform_id = ${platformId} and action = 'failover.settings_changed'`);
    expect(audit.rows[0]!.n).toBe(1);
    const again = textOf((await admin.get('/admin/providers')).html);
    expect(again).toContain('Automatic: a batch that fails, expires or passes the SLA of 2 h moves its unfinished items to the next provider (Anthropic, then OpenAI)');
  });

  it('shows a provider marked unhealthy with the reason, here and on the Batches page', async () => {
    await markUnhealthy(stack.db.db, platformId, 'openai', 'Batch 7 expired at OpenAI: <b>window</b> closed.', null);
    const page = await admin.get('/admin/providers');
    expect(page.html).toMatch(/<tr id="provider-openai" data-status="unhealthy">/);
    expect(page.html).toContain('Marked unhealthy: Batch 7 expired at OpenAI: &lt;b&gt;window&lt;/b&gt; closed. Skipped for new batches until a probe succeeds.');
    expect(textOf(page.html)).toContain('Not probed yet: the worker probes it within a minute.');
    const batches = await admin.get('/admin/batches');
    expect(batches.html).toContain('id="batches-unhealthy"');
    expect(textOf(batches.html)).toMatch(/Marked unhealthy: .*OpenAI since .*: Batch 7 expired at OpenAI: <b>window<\/b> closed\./);
  });

  it('a failover batch\'s page says which batch it came from and why; the old one, the Batches and Providers pages say what moved', async () => {
    const ids = await stack.db.db.execute<{ id: number }>(sql`
      insert into batches (platform_id, provider, model, status, error) values (${platformId}, 'openai', 'gpt-4o-mini', 'expired', 'The window closed.') returning id`);
    const from = Number(ids.rows[0]!.id);
    const next = await stack.db.db.execute<{ id: number }>(sql`
      insert into batches (platform_id, provider, model, status, request_total, failed_over_from, failover_reason)
      values (${platformId}, 'anthropic', 'claude-haiku-4-5', 'created', 12, ${from}, ${`Batch ${from} expired at OpenAI. Its 12 unfinished items moved to Anthropic (claude-haiku-4-5).`}) returning id`);
    const to = Number(next.rows[0]!.id);
    const page = textOf((await admin.get(`/admin/batches/${to}`)).html);
    expect(page).toContain(`Failed over from batch ${from} (OpenAI, gpt-4o-mini): 12 items moved from OpenAI to Anthropic after the batch expired.`);
    expect(page).toContain(`Batch ${from} expired at OpenAI. Its 12 unfinished items moved to Anthropic (claude-haiku-4-5).`);
    const old = textOf((await admin.get(`/admin/batches/${from}`)).html);
    expect(old).toContain(`12 items moved from OpenAI to Anthropic after the batch expired: they went on in batch ${to} (Anthropic, claude-haiku-4-5).`);
    for (const path of ['/admin/batches', '/admin/providers']) {
      const list = await admin.get(path);
      expect(list.html).toContain(`id="failover-${to}"`);
      expect(textOf(list.html)).toMatch(new RegExp(`: 12 items moved from OpenAI to Anthropic after the batch expired \\(\\s*batch ${from}\\s*, OpenAI, gpt-4o-mini → batch ${to}\\s*, Anthropic, claude-haiku-4-5\\)\\.`));
    }
  });

  it('names a failover after a batch past its time limit, and lists only this platform\'s failovers', async () => {
    const ids = await stack.db.db.execute<{ id: number }>(sql`
      insert into batches (platform_id, provider, model, status, overdue_at) values (${platformId}, 'openai', 'gpt-4o', 'cancelled', now()) returning id`);
    const from = Number(ids.rows[0]!.id);
    const next = await stack.db.db.execute<{ id: number }>(sql`
      insert into batches (platform_id, provider, model, status, request_total, failed_over_from) values (${platformId}, 'anthropic', 'claude-sonnet-4-6', 'created', 1, ${from}) returning id`);
    const to = Number(next.rows[0]!.id);
    const other = await stack.db.db.execute<{ id: number }>(sql`insert into lti_platforms (issuer, client_id, name, ltijs_platform_id) values ('https://other.example', 'other', 'Other', 'other') returning id`);
    const otherId = Number(other.rows[0]!.id);
    const theirs = await stack.db.db.execute<{ id: number }>(sql`insert into batches (platform_id, provider, model, status) values (${otherId}, 'openai', 'gpt-4o', 'failed') returning id`);
    const theirNext = await stack.db.db.execute<{ id: number }>(sql`
      insert into batches (platform_id, provider, model, status, request_total, failed_over_from) values (${otherId}, 'anthropic', 'claude-sonnet-4-6', 'created', 5, ${Number(theirs.rows[0]!.id)}) returning id`);
    const list = await admin.get('/admin/batches');
    expect(textOf(list.html)).toContain('1 item moved from OpenAI to Anthropic after the batch passed its time limit');
    expect(list.html).toContain(`id="failover-${to}"`);
    expect(list.html).not.toContain(`id="failover-${Number(theirNext.rows[0]!.id)}"`);
  });
});
