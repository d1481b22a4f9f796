import type { Db } from '../../db/db.js';
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
  await db.insert(auditLog).values({ ...entry, entityId: entry.entityId == null ? null : String(entry.entityId), details: entry.details ?? {} });
}
