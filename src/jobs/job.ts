import type { z } from 'zod';
import type { Config } from '../config.js';
import type { RootDb } from '../db/db.js';
import type { Logger } from '../log.js';
import type { BatchProvider } from '../providers/provider.js';
import type { Gradebook } from '../models/grades/gradebook.js';

/** What a job handler may use. Jobs carry ids in their payloads, never whole objects. */
export interface JobDeps {
  db: RootDb;
  logger: Logger;
  /** Batch jobs: settings, the encryption key (submission text) and the provider. Absent in bare runners. */
  config?: Config;
  provider?: BatchProvider;
  /** Enqueues another job (set once the runner exists). */
  enqueue?: <T>(job: JobDefinition<T>, payload: T, when?: Date) => Promise<void>;
  /** This worker's name, for leases (which worker holds a batch). */
  workerName?: string;
  /** Grade passback: the LMS gradebook services (AGS), signed with the tool keys ltijs keeps. */
  ags?: Gradebook;
}

export interface JobDefinition<T> {
  name: string;
  /** Parsed on every run: a payload written by an older version fails loudly instead of doing the wrong thing. */
  payload: z.ZodType<T>;
  /** A schedule for recurring jobs (Agenda's human interval or cron syntax), or milliseconds made from the settings. */
  every?: string | ((deps: JobDeps) => number | undefined);
  concurrency?: number;
  lockLifetimeMs?: number;
  /** Must be idempotent: a job may run twice (a crash after the work, before Agenda records success). */
  handle(deps: JobDeps, payload: T): Promise<void>;
}

export function defineJob<T>(def: JobDefinition<T>): JobDefinition<T> {
  return def;
}
