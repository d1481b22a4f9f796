import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { sql } from 'drizzle-orm';
import { sealAuditLog, verifyAuditChain } from '../src/models/audit/audit-chain.service.js';
import { recordAudit } from '../src/models/audit/audit.repository.js';
import { startStack, type Stack } from './helpers/stack.js';
import type { ToolSession } from './helpers/lti-browser.js';
import { textOf } from './helpers/html.js';
import { launchTwoPlatforms } from './helpers/launches.js';
import { homeIds } from './helpers/queue-fixtures.js';

/**
 * Issue 17, item 7: an audit log administrators can read (filters, CSV, their platform only), that the database
 * keeps append-only, and whose hash chain shows a row changed or removed behind the database's back.
 */
describe('audit log', () => {
  let stack: Stack;
  let admin: ToolSession;
  let foreignAdmin: ToolSession;
  let home: Awaited<ReturnType<typeof homeIds>>;
  const db = () => stack.db.db;
  /** Runs a statement with the triggers off, as someone with the database owner's rights could: tampering. */
  const behindTheBack = async (statement: ReturnType<typeof sql>) => {
    await db().execute(sql`alter table audit_log disable trigger user`);
    try {
      await db().execute(statement);
    } finally {
      await db().execute(sql`alter table audit_log enable trigger user`);
    }
  };

  beforeAll(async () => {
    stack = await startStack();
    ({ admin, foreignAdmin } = await launchTwoPlatforms(stack));
    home = await homeIds(stack);
    await recordAudit(db(), { platformId: home.platformId, courseId: home.courseId, actorKind: 'user', actorId: home.instructorId, action: 'course.privacy_updated', entityType: 'course', entityId: home.courseId, details: { note: '=HYPERLINK("x")' } });
  }, 90_000);
  afterAll(async () => {
    await stack?.close();
  });

  it('refuses UPDATE, DELETE and TRUNCATE from the application\'s own connection', async () => {
    const [row] = (await db().execute<{ id: number }>(sql`select id from audit_log order by id limit 1`)).rows;
    await expect(db().execute(sql`update audit_log set action = 'x' where id = ${row!.id}`)).rejects.toThrow();
    await expect(db().execute(sql`delete from audit_log where id = ${row!.id}`)).rejects.toThrow();
    await expect(db().execute(sql`truncate audit_log`)).rejects.toThrow();
    const cause = await db().execute(sql`delete from audit_log where id = ${row!.id}`).catch((err: Error & { cause?: Error }) => err.cause?.message ?? err.message);
    expect(cause).toContain('audit_log is append-only: DELETE refused');
    expect((await db().execute<{ action: string }>(sql`select action from audit_log where id = ${row!.id}`)).rows[0]!.action).not.toBe('x');
  });

  it('seals every row into the chain once, and a sealed row cannot be sealed again', async () => {
    const sealed = await sealAuditLog(db());
    expect(sealed).toBeGreaterThan(0);
    expect(await sealAuditLog(db())).toBe(0);
    const unsealed = (await db().execute<{ n: number }>(sql`select count(*)::int as n from audit_log where hash is null`)).rows[0]!.n;
    expect(unsealed).toBe(0);
    await expect(db().execute(sql`update audit_log set hash = 'forged', seal_seq = seal_seq where seal_seq = 1`)).rejects.toThrow();
    expect(await verifyAuditChain(db())).toEqual({ intact: true, checked: sealed });
  });

  it('shows a row changed behind the database\'s back, to its platform\'s administrator with its number', async () => {
    const target = (await db().execute<{ id: number }>(sql`select id from audit_log where platform_id = ${home.platformId} and action = 'course.privacy_updated' order by id desc limit 1`)).rows[0]!;
    await behindTheBack(sql`update audit_log set details = '{"note": "rewritten"}' where id = ${target.id}`);
    try {
      const result = await verifyAuditChain(db());
      expect(result).toMatchObject({ intact: false, brokenAt: { id: Number(target.id), platformId: home.platformId } });
      const mine = await admin.post('/admin/audit/verify', {}, { htmx: true });
      expect(mine.status).toBe(200);
      expect(textOf(mine.html)).toContain(`Altered. The audit log was altered: entry #${target.id}`);
      const theirs = await foreignAdmin.post('/admin/audit/verify', {}, { htmx: true });
      expect(textOf(theirs.html)).toContain('altered at an entry of another platform');
      expect(textOf(theirs.html)).not.toContain(`#${target.id}`);
    } finally {
      await behindTheBack(sql`update audit_log set details = '{"note": "=HYPERLINK(\\"x\\")"}' where id = ${target.id}`);
    }
    expect((await verifyAuditChain(db())).intact).toBe(true);
  });

  it('shows a removed row: the chain breaks at the row after it', async () => {
    await recordAudit(db(), { platformId: home.platformId, actorKind: 'system', action: 'test.first', entityType: 'test' });
    await recordAudit(db(), { platformId: home.platformId, actorKind: 'system', action: 'test.second', entityType: 'test' });
    await sealAuditLog(db());
    const [first, second] = (await db().execute<{ id: number }>(sql`select id from audit_log where action like 'test.%' order by id`)).rows;
    await behindTheBack(sql`delete from audit_log where id = ${first!.id}`);
    expect(await verifyAuditChain(db())).toMatchObject({ intact: false, brokenAt: { id: Number(second!.id) } });
    const check = await admin.post('/admin/audit/verify', {}, { htmx: true });
    expect(textOf(check.html)).toContain(`entry #${second!.id}`);
  });

  it('lists the platform\'s entries only, filtered by what, course and period, newest first', async () => {
    const page = await admin.get('/admin/audit');
    expect(page.status).toBe(200);
    const text = textOf(page.html);
    expect(text).toContain('lti.launch');
    expect(text).toContain('course.privacy_updated');
    const foreignPlatform = (await db().execute<{ n: number }>(sql`select count(*)::int as n from audit_log where platform_id <> ${home.platformId}`)).rows[0]!.n;
    expect(foreignPlatform).toBeGreaterThan(0);
    expect(text).not.toContain('Second LMS essay');

    const filtered = await admin.get(`/admin/audit?action=course.privacy_updated&courseId=${home.courseId}`);
    const rows = filtered.html.match(/<tr><td><time/g) ?? [];
    expect(rows).toHaveLength(1);
    const family = await admin.get('/admin/audit?action=lti');
    const table = family.html.slice(family.html.indexOf('<table'));
    expect(textOf(table)).toContain('lti.launch');
    expect(textOf(table)).not.toContain('course.privacy_updated');
    const future = await admin.get('/admin/audit?from=2999-01-01');
    expect(textOf(future.html)).toContain('No entries match.');

    const theirs = await foreignAdmin.get(`/admin/audit?action=course.privacy_updated`);
    expect(textOf(theirs.html)).toContain('No entries match.');
  });

  it('refuses a malformed filter with a message beside it (422) and shows no entries', async () => {
    for (const [query, field, message] of [
      ['from=yesterday', 'audit-from-error', 'Enter a date as YYYY-MM-DD.'],
      ['from=2026-12-02&to=2026-12-01', 'audit-to-error', 'The start date is after the end date.'],
      ['action=DROP%20TABLE', 'audit-action-error', 'Choose an action from the list.'],
      ['courseId=abc', 'audit-course-error', 'Choose a course from the list.'],
      ['provider=mistral', 'audit-provider-error', 'Choose a provider from the list.'],
    ] as const) {
      const res = await admin.get(`/admin/audit?${query}`);
      expect(res.status).toBe(422);
      expect(res.html).toContain(`id="${field}"`);
      expect(textOf(res.html)).toContain(message);
      expect(res.html).not.toMatch(/<tr><td><time/);
    }
    const csv = await admin.get('/admin/audit.csv?from=nope');
    expect(csv.status).toBe(422);
  });

  it('downloads the filtered entries as CSV, formulas neutralised', async () => {
    const res = await admin.get(`/admin/audit.csv?action=course.privacy_updated`);
    expect(res.status).toBe(200);
    const lines = res.html.replace(/^\uFEFF/, '').trim().split('\r\n');
    expect(lines[0]).toBe('id,at_utc,actor_kind,actor,actor_lms_id,action,entity_type,entity_id,course_id,course,provider,details_json,sealed');
    expect(lines.length).toBeGreaterThanOrEqual(2);
    expect(lines.every((l, i) => i === 0 || l.includes(',course.privacy_updated,'))).toBe(true);
    expect(res.html).toContain('"{""note"":""=HYPERLINK(\\""x\\"")""}"');
  });
});
