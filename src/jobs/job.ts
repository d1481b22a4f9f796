import type { z } from 'zod';
import type { Config } from '../config.js';
import type { RootDb } from '../db/db.js';
import type { JobName, JobPayloads, Jobs } from '../job-queue.js';
import type { Logger } from '../log.js';
import type { Providers } from '../providers/index.js';
import type { BatchProvider } from '../providers/provider.js';
import type { Gradebook } from '../models/grades/gradebook.js';
import type { Roster } from '../models/tenancy/roster.js';
import type { Mailer } from '../models/notifications/email.service.js';

/** What a job handler may use. Jobs carry ids in their payloads, never whole objects. */
export interface JobDeps {
  db: RootDb;
  logger: Logger;
  /** Batch jobs: settings, the encryption key (submission text) and the provider. Absent in bare runners. */
  config?: Config;
  provider?: BatchProvider;
  /** Every provider by name (a batch goes to its own); without it, `provider` alone. */
  providers?: Providers;
  /** Enqueues other jobs by name (set once the runner exists). */
  jobs?: Jobs;
  /** This worker's name, for leases (which worker holds a batch). */
  workerName?: string;
  /** Grade passback: the LMS gradebook services (AGS), signed with the tool keys ltijs keeps. */
  ags?: Gradebook;
  /** Course rosters: the LMS roster service (NRPS), through the same client. */
  roster?: Roster;
  /** E-mail notices: SMTP (absent when SMTP_URL is unset: due e-mail is marked skipped). */
  mailer?: Mailer;
}

/** One job: its name (src/job-queue.ts lists them with their payloads), its payload schema and its handler. */
export interface JobDefinition<N extends JobName = JobName> {
  name: N;
  /** Parsed on every run: a payload written by an older version fails loudly instead of doing the wrong thing. */
  payload: z.ZodType<JobPayloads[N]>;
  /** A schedule for recurring jobs (Agenda's human interval or cron syntax), or milliseconds made from the settings. */
  every?: string | ((deps: JobDeps) => number | undefined);
  concurrency?: number;
  lockLifetimeMs?: number;
  /** Must be idempotent: a job may run twice (a crash after the work, before Agenda records success). */
  handle(deps: JobDeps, payload: JobPayloads[N]): Promise<void>;
}

export function defineJob<N extends JobName>(def: JobDefinition<N>): JobDefinition<N> {
  return def;
}
