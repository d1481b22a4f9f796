import { sql } from 'drizzle-orm';
import type { Db } from '../../db/db.js';
import { likeLiteral } from '../like.js';
import { auditLog } from './audit.table.js';

export interface AuditEntry {
  platformId?: number | null;
  courseId?: number | null;
  actorId?: number | null;
  actorKind: 'user' | 'system';
  action: string;
  entityType: string;
  entityId?: string | number | null;
  details?: Record<string, unknown>;
}

export async function recordAudit(db: Db, entry: AuditEntry): Promise<void> {
  await recordAudits(db, [entry]);
}

/** Several entries in one insert (a grade-sync chunk's posts). */
export async function recordAudits(db: Db, entries: AuditEntry[]): Promise<void> {
  if (!entries.length) return;
  await db.insert(auditLog).values(entries.map((entry) => ({ ...entry, entityId: entry.entityId == null ? null : String(entry.entityId), details: entry.details ?? {} })));
}

/** What an administrator can narrow the audit log to (all optional; every query is within one platform). */
export interface AuditFilter {
  /** Part of the acting person's name or LMS id (sub), case-insensitive. */
  actor?: string;
  /** An action ('batch.submitted') or a family ('batch'). */
  action?: string;
  courseId?: number;
  /** Provider interactions only, with this provider ('openai', 'anthropic'). */
  provider?: string;
  /** Dates (YYYY-MM-DD, UTC): from the start of `from` to the end of `to`. */
  from?: string;
  to?: string;
}

export interface AuditEntryRow {
  id: number;
  createdAt: Date;
  actorKind: 'user' | 'system';
  actorName: string | null;
  actorSub: string | null;
  action: string;
  entityType: string;
  entityId: string | null;
  courseId: number | null;
  courseTitle: string | null;
  provider: string | null;
  details: Record<string, unknown>;
  sealed: boolean;
}

function whereOf(platformId: number, f: AuditFilter) {
  const parts = [sql`l.platform_id = ${platformId}`];
  if (f.actor) parts.push(sql`(u.name ilike ${`%${likeLiteral(f.actor)}%`} or u.sub = ${f.actor})`);
  if (f.action) parts.push(f.action.includes('.') ? sql`l.action = ${f.action}` : sql`l.action like ${`${likeLiteral(f.action)}.%`}`);
  if (f.courseId !== undefined) parts.push(sql`l.course_id = ${f.courseId}`);
  if (f.provider) parts.push(sql`(l.action like 'batch.%' or l.action like 'provider.%') and coalesce(l.details ->> 'provider', b.provider) = ${f.provider}`);
  if (f.from) parts.push(sql`l.created_at >= ${f.from}::date`);
  if (f.to) parts.push(sql`l.created_at < ${f.to}::date + 1`);
  return sql.join(parts, sql` and `);
}

/** A page of the platform's audit log, newest first, before the entry `beforeId` (keyset paging). */
export async function listAuditEntries(db: Db, platformId: number, f: AuditFilter, page: { beforeId?: number; limit: number }): Promise<AuditEntryRow[]> {
  const rows = await db.execute<{
    id: string; created_at: Date; actor_kind: 'user' | 'system'; actor_name: string | null; actor_sub: string | null; action: string; entity_type: string;
    entity_id: string | null; course_id: string | null; course_title: string | null; provider: string | null; details: Record<string, unknown>; sealed: boolean;
  }>(sql`
    select l.id, l.created_at, l.actor_kind, u.name as actor_name, u.sub as actor_sub, l.action, l.entity_type, l.entity_id, l.course_id, c.title as course_title,
           coalesce(l.details ->> 'provider', b.provider) as provider, l.details, l.hash is not null as sealed
    from audit_log l
    left join users u on u.id = l.actor_id
    left join courses c on c.id = l.course_id
    left join batches b on l.entity_type = 'batch' and b.id::text = l.entity_id and b.platform_id = l.platform_id
    where ${whereOf(platformId, f)} ${page.beforeId ? sql`and l.id < ${page.beforeId}` : sql``}
    order by l.id desc
    limit ${page.limit}`);
  return rows.rows.map((r) => ({
    id: Number(r.id),
    createdAt: new Date(r.created_at),
    actorKind: r.actor_kind,
    actorName: r.actor_name,
    actorSub: r.actor_sub,
    action: r.action,
    entityType: r.entity_type,
    entityId: r.entity_id,
    courseId: r.course_id == null ? null : Number(r.course_id),
    courseTitle: r.course_title,
    provider: r.provider,
    details: r.details,
    sealed: r.sealed,
  }));
}

/** The actions the platform's log holds, for the filter's choices. */
export async function listAuditActions(db: Db, platformId: number): Promise<string[]> {
  const rows = await db.execute<{ action: string }>(sql`select distinct action from audit_log where platform_id = ${platformId} order by action`);
  return rows.rows.map((r) => r.action);
}
