import type { Logger } from '../log.js';
import type { FaultState, Timings } from './faults.js';
import type { EmulatorStore } from './store.js';

export interface EmulatorLimits {
  /** Requests per batch (OpenAI: 50,000). */
  maxRequestsPerBatch: number;
  /** Bytes of a purpose=batch upload (OpenAI: 200 MB). */
  maxBatchFileBytes: number;
  /** Bytes of any upload (OpenAI: 512 MB). */
  maxFileBytes: number;
}

export const OPENAI_LIMITS: EmulatorLimits = {
  maxRequestsPerBatch: 50_000,
  maxBatchFileBytes: 200 * 1024 * 1024,
  maxFileBytes: 512 * 1024 * 1024,
};

/** What every route needs: state, faults, the clock, and the background runners to wait for on close. */
export interface EmulatorContext {
  store: EmulatorStore;
  faults: FaultState;
  clock: () => number;
  timings: Timings;
  limits: EmulatorLimits;
  logger: Logger;
  runners: Set<Promise<void>>;
  stopping: boolean;
}
