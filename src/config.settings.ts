/** The parts of the Config (src/config.ts) that areas take on their own. */

/** How batches are made and driven (see README, configuration). */
export interface BatchSettings {
  minSize: number;
  maxSize: number;
  maxBytes: number;
  /** Sends of one queue item that may fail before it is left failed (dead letter). */
  maxAttempts: number;
  /** Retryable upload/create failures of one batch before it is marked failed. */
  submitMaxTries: number;
  pollMinMs: number;
  pollMaxMs: number;
  /** A batch still being validated after this long is cancelled (and its items queued again). */
  submittedTimeoutMs: number;
  /** A batch still running after this long (OpenAI's window is 24 h) is cancelled. */
  processingTimeoutMs: number;
  leaseMs: number;
  /** The provider's enqueued-token limit per model (OpenAI organization limits): the queue's capacity figure. */
  enqueuedTokenLimit: number;
  /** How often a worker looks for batch work nobody is doing (a dead worker's, a lost job's). */
  sweepMs: number;
  /** How often a worker runs the batch schedules that are due (a schedule's slot is a whole minute). */
  scheduleTickMs: number;
  /** Result lines applied per transaction while ingesting. */
  ingestChunk: number;
}

/** What one sample test (real-time calls) may take. */
export interface SampleTestSettings {
  /** The longest sample, in characters (the submission limit applies as well). */
  maxChars: number;
  /** The most one test may cost, in micro-dollars: every sample at real-time prices with max output tokens. */
  maxCostMicros: number;
}

/**
 * Requests per minute (also the burst: a full minute's worth may come at once), counted in memory per web
 * process (see src/http/rate-limit.ts).
 */
export interface RateLimitSettings {
  ltiLaunchesPerIp: number;
  ltiKeysPerIp: number;
  ltiRegistrationsPerIp: number;
  submissionsPerUser: number;
  sampleTestsPerUser: number;
  sampleTestsPerCourse: number;
  apiWritesPerUser: number;
  /** Keys each limiter tracks at most (least recently seen forgotten first): bounds memory. */
  maxKeys: number;
}

/** Grade passback to LMS gradebooks (AGS), from the worker. */
export interface GradeSyncSettings {
  /** Failed tries of one decision before its sync is left failed (an instructor can retry it). */
  maxAttempts: number;
  /** The first retry waits this long, each next one twice as long (capped at an hour), or what Retry-After says. */
  backoffMs: number;
  timeoutMs: number;
}
