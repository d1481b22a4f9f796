import type { z } from 'zod';
import type { RootDb } from '../db/db.js';
import type { Logger } from '../log.js';

/** What a job handler may use. Jobs carry ids in their payloads, never whole objects. */
export interface JobDeps {
  db: RootDb;
  logger: Logger;
}

export interface JobDefinition<T> {
  name: string;
  /** Parsed on every run: a payload written by an older version fails loudly instead of doing the wrong thing. */
  payload: z.ZodType<T>;
  /** A schedule for recurring jobs (Agenda's human interval or cron syntax). */
  every?: string;
  concurrency?: number;
  lockLifetimeMs?: number;
  /** Must be idempotent: a job may run twice (a crash after the work, before Agenda records success). */
  handle(deps: JobDeps, payload: T): Promise<void>;
}

export function defineJob<T>(def: JobDefinition<T>): JobDefinition<T> {
  return def;
}
