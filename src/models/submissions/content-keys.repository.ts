import { sql, type SQL } from 'drizzle-orm';
import type { Db } from '../../db/db.js';
import { LEGACY_KEY_ID } from '../../crypto/content.js';
import { REMOVED_TEXT } from '../privacy/retention.repository.js';

/**
 * Which key encrypted what, and the rows the key rotation moves to the current key (src/crypto/content.ts has the
 * formats: a submission's key id is in its header, an assessment text's in its `enc:<id>:` prefix).
 */

/** The key id in a submission's header: version 1 is the legacy key, version 2 names its key. */
const SUBMISSION_KEY_ID = sql`case
    when octet_length(content) >= 2 and get_byte(content, 0) = 2 then encode(substring(content from 3 for get_byte(content, 1)), 'escape')
    when octet_length(content) >= 1 and get_byte(content, 0) = 1 then ${LEGACY_KEY_ID}
    else '(unknown format)' end`;

function textKeyId(column: SQL): SQL {
  return sql`case when ${column} like 'enc:%' then split_part(${column}, ':', 2) else '(plaintext)' end`;
}

export interface KeyCount {
  keyId: string;
  rows: number;
}

/** Stored submission texts per key id (erased ones not counted). */
export async function countSubmissionsByKey(db: Db): Promise<KeyCount[]> {
  const rows = await db.execute<{ key_id: string; n: number }>(sql`
    select ${SUBMISSION_KEY_ID} as key_id, count(*)::int as n from submissions where content is not null group by 1 order by 1`);
  return rows.rows.map((r) => ({ keyId: r.key_id, rows: Number(r.n) }));
}

/** Assessment texts (raw output, override feedback and reason) per key id; retention's stub is not counted. */
export async function countAssessmentTextsByKey(db: Db): Promise<KeyCount[]> {
  const rows = await db.execute<{ key_id: string; n: number }>(sql`
    select key_id, count(*)::int as n from (
      select ${textKeyId(sql`raw_output`)} as key_id from assessments where raw_output is not null
      union all select ${textKeyId(sql`override_feedback`)} from assessments where override_feedback is not null and override_feedback <> ${REMOVED_TEXT}
      union all select ${textKeyId(sql`override_reason`)} from assessments where override_reason is not null and override_reason <> ${REMOVED_TEXT}
    ) t group by 1 order by 1`);
  return rows.rows.map((r) => ({ keyId: r.key_id, rows: Number(r.n) }));
}

export interface StoredSubmissionContent {
  id: number;
  taskId: number;
  studentId: number;
  attempt: number;
  content: Buffer;
}

/**
 * The next submissions after `afterId` whose content does not start with `header` (the current key's), locked for
 * the caller's transaction. Rows someone else holds are skipped, not waited for: the tool keeps running while the
 * rotation does, and a later pass takes them.
 */
export async function lockSubmissionsNotUnder(db: Db, header: Buffer, afterId: number, limit: number): Promise<StoredSubmissionContent[]> {
  const rows = await db.execute<{ id: string; task_id: string; student_id: string; attempt: number; content: Buffer }>(sql`
    select id, task_id, student_id, attempt, content from submissions
    where id > ${afterId} and content is not null and substring(content from 1 for ${header.length}) <> ${header}
    order by id
    limit ${limit}
    for update skip locked`);
  return rows.rows.map((r) => ({ id: Number(r.id), taskId: Number(r.task_id), studentId: Number(r.student_id), attempt: r.attempt, content: r.content }));
}

/**
 * Writes each new content where the row still holds the content it was made from: a row changed since (erased by
 * retention, say) keeps its change. Returns how many rows were written.
 */
export async function replaceSubmissionContents(db: Db, rows: Array<{ id: number; old: Buffer; content: Buffer }>): Promise<number> {
  if (!rows.length) return 0;
  const result = await db.execute(sql`
    update submissions s set content = v.content
    from unnest(${sql.param(rows.map((r) => r.id))}::bigint[], ${sql.param(rows.map((r) => r.old))}::bytea[], ${sql.param(rows.map((r) => r.content))}::bytea[]) as v(id, old, content)
    where s.id = v.id and s.content = v.old`);
  return result.rowCount ?? 0;
}

export interface StoredAssessmentTexts {
  id: number;
  queueItemId: number | null;
  submissionId: number;
  rawOutput: string | null;
  overrideFeedback: string | null;
  overrideReason: string | null;
}

/** Whether a text column still needs the current key: set, not under `prefix`, and not retention's stub. */
function needsKey(column: SQL, prefix: string): SQL {
  return sql`(${column} is not null and left(${column}, ${prefix.length}) <> ${prefix} and ${column} <> ${REMOVED_TEXT})`;
}

/** The next assessments after `afterId` with a text not under the key of `prefix` (`enc:<id>:`), locked as above. */
export async function lockAssessmentTextsNotUnder(db: Db, prefix: string, afterId: number, limit: number): Promise<StoredAssessmentTexts[]> {
  const rows = await db.execute<{ id: string; queue_item_id: string | null; submission_id: string; raw_output: string | null; override_feedback: string | null; override_reason: string | null }>(sql`
    select id, queue_item_id, submission_id, raw_output, override_feedback, override_reason from assessments
    where id > ${afterId}
      and (${needsKey(sql`raw_output`, prefix)} or ${needsKey(sql`override_feedback`, prefix)} or ${needsKey(sql`override_reason`, prefix)})
    order by id
    limit ${limit}
    for update skip locked`);
  return rows.rows.map((r) => ({ id: Number(r.id), queueItemId: r.queue_item_id == null ? null : Number(r.queue_item_id), submissionId: Number(r.submission_id), rawOutput: r.raw_output, overrideFeedback: r.override_feedback, overrideReason: r.override_reason }));
}

/** Writes the new texts where the row still holds the old ones (as replaceSubmissionContents). */
export async function replaceAssessmentTexts(db: Db, rows: Array<{ old: StoredAssessmentTexts; next: StoredAssessmentTexts }>): Promise<number> {
  if (!rows.length) return 0;
  const col = (pick: (r: StoredAssessmentTexts) => string | null, which: 'old' | 'next') => sql.param(rows.map((r) => pick(r[which])));
  const result = await db.execute(sql`
    update assessments a set raw_output = v.raw_output, override_feedback = v.override_feedback, override_reason = v.override_reason
    from unnest(${sql.param(rows.map((r) => r.old.id))}::bigint[],
                ${col((r) => r.rawOutput, 'old')}::text[], ${col((r) => r.overrideFeedback, 'old')}::text[], ${col((r) => r.overrideReason, 'old')}::text[],
                ${col((r) => r.rawOutput, 'next')}::text[], ${col((r) => r.overrideFeedback, 'next')}::text[], ${col((r) => r.overrideReason, 'next')}::text[])
      as v(id, old_raw_output, old_override_feedback, old_override_reason, raw_output, override_feedback, override_reason)
    where a.id = v.id and a.raw_output is not distinct from v.old_raw_output
      and a.override_feedback is not distinct from v.old_override_feedback and a.override_reason is not distinct from v.old_override_reason`);
  return result.rowCount ?? 0;
}
