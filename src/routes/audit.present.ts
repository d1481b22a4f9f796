import type { AuditEntryRow } from '../models/audit/audit.repository.js';
import { csvCell } from './cost-report.present.js';
import { formatDateTime } from './present.js';

/** Details as short "key: value" pairs (the log holds ids, counts and statuses, never submitted text). */
function describeDetails(details: Record<string, unknown>): string {
  return Object.entries(details)
    .map(([k, v]) => `${k}: ${typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v)}`)
    .join('; ');
}

export interface AuditLine {
  id: number;
  at: string;
  atIso: string;
  who: string;
  action: string;
  entity: string;
  course: string;
  provider: string;
  details: string;
  sealed: boolean;
}

export function presentAuditEntry(e: AuditEntryRow): AuditLine {
  return {
    id: e.id,
    at: formatDateTime(e.createdAt),
    atIso: e.createdAt.toISOString(),
    who: e.actorKind === 'system' ? 'llm-assess (system)' : e.actorName || e.actorSub || 'unknown person',
    action: e.action,
    entity: e.entityId ? `${e.entityType} ${e.entityId}` : e.entityType,
    course: e.courseTitle ?? '',
    provider: e.provider ?? '',
    details: describeDetails(e.details),
    sealed: e.sealed,
  };
}

const HEADER = ['id', 'at_utc', 'actor_kind', 'actor', 'actor_lms_id', 'action', 'entity_type', 'entity_id', 'course_id', 'course', 'provider', 'details_json', 'sealed'];

/** The filtered log as CSV (RFC 4180, CRLF), one entry per row, with the details as JSON. */
export function auditCsv(entries: AuditEntryRow[]): string {
  const rows = [HEADER, ...entries.map((e) => [
    e.id, e.createdAt.toISOString(), e.actorKind, e.actorName ?? '', e.actorSub ?? '', e.action, e.entityType, e.entityId ?? '',
    e.courseId ?? '', e.courseTitle ?? '', e.provider ?? '', JSON.stringify(e.details), e.sealed ? 'yes' : 'no',
  ])];
  return rows.map((cells) => cells.map(csvCell).join(',')).join('\r\n') + '\r\n';
}
