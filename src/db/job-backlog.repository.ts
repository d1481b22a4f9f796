import { sql } from 'drizzle-orm';
import type { Db } from './db.js';

export interface JobBacklog {
  /** Jobs due (next_run_at passed) that no worker has locked: waiting for a worker. */
  due: number;
  /** How long the oldest of them has waited, by the database's clock; null when none waits. */
  oldestDueSeconds: number | null;
}

/**
 * Agenda's waiting jobs (its table `agenda_jobs`). Throws the database's error as it is: a missing table (42P01,
 * no job runner has started yet) is the caller's to judge.
 */
export async function jobBacklog(db: Db): Promise<JobBacklog> {
  const r = await db.execute<{ due: number; oldest: number | null }>(sql`
    select count(*)::int as due, extract(epoch from now() - min(next_run_at))::float8 as oldest
      from agenda_jobs
     where next_run_at <= now() and locked_at is null and not coalesce(disabled, false)`);
  const row = r.rows[0];
  return { due: Number(row?.due ?? 0), oldestDueSeconds: row?.oldest == null ? null : Math.max(0, Number(row.oldest)) };
}
