import { AgsError } from '../models/grades/gradebook.js';
import type { Logger } from '../log.js';

/**
 * Runs a job's call to an LMS service (AGS, NRPS) that a later launch asks for again: without the client (a bare
 * runner) or when the LMS fails, it is logged and the job ends; anything else is a bug and is thrown.
 */
export async function callLms<C>(logger: Logger, what: string, ids: Record<string, unknown>, client: C | undefined, work: (client: C) => Promise<void>): Promise<void> {
  if (!client) {
    logger.warn(`${what} skipped: this runner has no LMS services client`, ids);
    return;
  }
  try {
    await work(client);
  } catch (err) {
    if (!(err instanceof AgsError)) throw err;
    logger.warn(`${what} failed at the LMS`, { ...ids, status: err.status, message: err.message });
  }
}
