import { sql } from 'drizzle-orm';
import type { Db } from './db.js';

/**
 * When any worker last finished a job of this name (Agenda's table), or null when none has. Throws the database's
 * error as it is: a missing `agenda_jobs` (42P01, no job runner has started yet) is the caller's to judge.
 */
export async function lastJobFinish(db: Db, jobName: string): Promise<Date | null> {
  const r = await db.execute<{ last: Date | null }>(sql`select (select max(last_finished_at) from agenda_jobs where name = ${jobName}) as last`);
  return r.rows[0]?.last ? new Date(r.rows[0].last) : null;
}
