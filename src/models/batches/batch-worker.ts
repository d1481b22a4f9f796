import type { Config } from '../../config.js';
import type { RootDb } from '../../db/db.js';
import type { Logger } from '../../log.js';
import type { Providers } from '../../providers/index.js';
import type { BatchProvider } from '../../providers/provider.js';
import type { BatchStep } from './batch-state.js';

/** What the batch steps (send, poll, cancel, ingest) work with: one worker's view of the world. */
export interface BatchWorker {
  db: RootDb;
  /** The OpenAI provider (the first of `providers`; tests wrap it to make it fail). */
  provider: BatchProvider;
  /** Every provider this installation has, by name: a batch is driven through its own (`providerOf`). */
  providers: Providers;
  settings: Config['batches'];
  /** The content keyring (config.encryptionKey). */
  encryptionKey: Config['encryptionKey'];
  logger: Logger;
  /** This worker's name: the owner of the leases it takes. */
  name: string;
}

/** The provider a batch belongs to (its `provider` column): the worker's own `provider` when the names agree. */
export function providerOf(w: BatchWorker, batch: { provider: string }): BatchProvider {
  return w.provider.name === batch.provider ? w.provider : w.providers.get(batch.provider);
}

/** What a step leaves to do next, for the job layer to enqueue (at a time, or at once). */
export interface NextStep {
  step: BatchStep;
  batchId: number;
  at?: Date;
}

/** Poll interval after `polls` polls: from the minimum, doubling every third poll, up to the maximum. */
export function pollDelayMs(settings: Pick<Config['batches'], 'pollMinMs' | 'pollMaxMs'>, polls: number): number {
  const base = Math.max(settings.pollMinMs, 1);
  return Math.min(settings.pollMaxMs, Math.max(settings.pollMinMs, base * 2 ** Math.floor(polls / 3)));
}

export function later(ms: number): Date {
  return new Date(Date.now() + ms);
}

/**
 * Keeps a held lease alive while long work runs (an upload of 200 MB, a long chunk): renewed every third of its
 * length. A worker that dies stops renewing, and its lease runs out. Call the returned function when done.
 */
export function keepLease(w: BatchWorker, batchId: number, renew: (db: BatchWorker['db'], id: number, owner: string, leaseMs: number) => Promise<boolean>): () => void {
  const timer = setInterval(() => {
    renew(w.db, batchId, w.name, w.settings.leaseMs).then(
      (held) => {
        if (!held) w.logger.warn('lost the lease on a batch while working on it', { batchId });
      },
      (err) => w.logger.warn('could not renew a batch lease', { batchId, err }),
    );
  }, Math.max(100, Math.floor(w.settings.leaseMs / 3)));
  timer.unref();
  return () => clearInterval(timer);
}

/** The lease was taken by another worker (ours ran out): stop, and leave the work to them. */
export class LeaseLostError extends Error {
  constructor(batchId: number) {
    super(`lost the lease on batch ${batchId} to another worker`);
    this.name = 'LeaseLostError';
  }
}
