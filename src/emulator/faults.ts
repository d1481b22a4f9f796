import { z } from 'zod';

/**
 * Fault injection: the failures the real API is known to produce, on demand. Set at start (EMULATOR_FAULTS, as
 * JSON) or at run time (POST /__emulator/faults). "Next N" counters are used up as batches or uploads happen;
 * rates are applied per request, deterministically (the same custom_id and seed always get the same fate).
 */

const rate = z.number().min(0).max(1);
const count = z.number().int().min(0).max(1_000_000);
const ms = z.number().int().min(0).max(7 * 86_400_000);

export const timingsSchema = z.strictObject({
  validatingMs: ms,
  inProgressMs: ms,
  finalizingMs: ms,
});
export type Timings = z.infer<typeof timingsSchema>;

export const faultsSchema = z.strictObject({
  /** Changes every rate-based decision at once while keeping them deterministic. */
  seed: z.string().min(1).max(200).default('emulator'),
  /** Share of batch lines answered with an HTTP error (in the error file). */
  lineErrorRate: rate.default(0),
  /** The HTTP status of those lines: 400 (a request the API rejects) or 500 (a server error worth retrying). */
  lineErrorStatus: z.union([z.literal(400), z.literal(500)]).default(400),
  /** The next N batches expire: some lines done, the rest in the error file as batch_expired. */
  expireNextBatches: count.default(0),
  /** Share of an expiring batch's lines that finished before it expired. */
  expireCompletedFraction: rate.default(0.5),
  /** The next N batches fail validation with token_limit_exceeded (the enqueued-token limit). */
  failNextBatches: count.default(0),
  /** The next N batches stay in one phase: forMs, or (null) until cancelled or the 24 h window ends. */
  stuck: z
    .strictObject({ phase: z.enum(['validating', 'finalizing']), batches: count.min(1), forMs: ms.nullable().default(null) })
    .nullable()
    .default(null),
  /** The next N batches report this status word (one the API does not document) while in progress. */
  unknownStatus: z.strictObject({ status: z.string().min(1).max(64), batches: count.min(1) }).nullable().default(null),
  /** The next N file uploads are refused with this status. */
  uploadFailures: z.strictObject({ count: count.min(1), status: z.union([z.literal(429), z.literal(500)]) }).nullable().default(null),
  /**
   * The next N batch creations answer with this status. With created: true the batch is created anyway and only
   * the answer is lost — what a timeout looks like to a client, and why a retried create must not start a twin.
   */
  createBatchFailures: z
    .strictObject({ count: count.min(1), status: z.union([z.literal(429), z.literal(500)]), created: z.boolean().default(false) })
    .nullable()
    .default(null),
  /**
   * The next N file deletions (DELETE /v1/files/{id}) are refused with this status, before the file is looked up:
   * the rate limit or server error a client meets when it cleans up after a batch.
   */
  deleteFileFailures: z.strictObject({ count: count.min(1), status: z.union([z.literal(429), z.literal(500)]) }).nullable().default(null),
  /**
   * The next N batch listings (GET /v1/batches, GET /v1/messages/batches) are refused with this status: what a
   * client's probe of a provider that is down meets.
   */
  listBatchesFailures: z.strictObject({ count: count.min(1), status: z.union([z.literal(429), z.literal(500)]) }).nullable().default(null),
  /** The next N real-time chat completions are refused with this status. */
  chatFailures: z
    .strictObject({ count: count.min(1), status: z.union([z.literal(429), z.literal(500), z.literal(503)]) })
    .nullable()
    .default(null),
  /** Share of answers cut off mid-JSON (finish_reason "length"). */
  malformedOutputRate: rate.default(0),
  /** Share of grading answers with a score above its maximum. */
  outOfRangeOutputRate: rate.default(0),
  /** Share of answers that are refusals (message.refusal set, content null). */
  refusalRate: rate.default(0),
  /** Lifecycle timings for batches created from now on, replacing the configured ones. */
  timings: timingsSchema.partial().nullable().default(null),
});

export type Faults = z.infer<typeof faultsSchema>;
export type FaultsInput = z.input<typeof faultsSchema>;

export const NO_FAULTS: Faults = faultsSchema.parse({});

export class FaultsError extends Error {
  constructor(readonly problems: string[], source = 'emulator faults') {
    super(`Invalid ${source}: ${problems.join('; ')}`);
    this.name = 'FaultsError';
  }
}

function problemsOf(error: z.ZodError): string[] {
  return error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
}

/** Validates faults given as an object; throws FaultsError naming each bad field. */
export function parseFaults(input: unknown, source?: string): Faults {
  const parsed = faultsSchema.safeParse(input ?? {});
  if (!parsed.success) throw new FaultsError(problemsOf(parsed.error), source);
  return parsed.data;
}

/** Validates faults given as JSON text (EMULATOR_FAULTS); empty or missing means none. */
export function parseFaultsJson(json: string | undefined, source = 'EMULATOR_FAULTS'): Faults {
  if (json === undefined || json.trim() === '') return NO_FAULTS;
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch (err) {
    throw new FaultsError([`not valid JSON (${err instanceof Error ? err.message : String(err)})`], source);
  }
  return parseFaults(value, source);
}

/** What a new batch is in for, decided once when it is created (so later fault changes do not rewrite it). */
export interface BatchPlan {
  seed: string;
  fail: boolean;
  expireFraction: number | null;
  stuck: { phase: 'validating' | 'finalizing'; forMs: number | null } | null;
  unknownStatus: string | null;
  lineErrorRate: number;
  lineErrorStatus: 400 | 500;
  output: OutputFaults;
}

export interface OutputFaults {
  seed: string;
  malformedOutputRate: number;
  outOfRangeOutputRate: number;
  refusalRate: number;
}

/** The live fault settings, with their "next N" counters used up as things happen. */
export class FaultState {
  private faults: Faults;

  constructor(initial: Faults = NO_FAULTS) {
    this.faults = structuredClone(initial);
  }

  get current(): Faults {
    return structuredClone(this.faults);
  }

  set(faults: Faults): void {
    this.faults = structuredClone(faults);
  }

  output(): OutputFaults {
    const f = this.faults;
    return { seed: f.seed, malformedOutputRate: f.malformedOutputRate, outOfRangeOutputRate: f.outOfRangeOutputRate, refusalRate: f.refusalRate };
  }

  timingsOverride(): Partial<Timings> {
    return this.faults.timings ?? {};
  }

  /** The status to refuse this upload with, if an upload failure is pending. */
  takeUploadFailure(): 429 | 500 | null {
    const f = this.faults.uploadFailures;
    if (!f) return null;
    this.faults.uploadFailures = f.count > 1 ? { ...f, count: f.count - 1 } : null;
    return f.status;
  }

  takeCreateBatchFailure(): { status: 429 | 500; created: boolean } | null {
    const f = this.faults.createBatchFailures;
    if (!f) return null;
    this.faults.createBatchFailures = f.count > 1 ? { ...f, count: f.count - 1 } : null;
    return { status: f.status, created: f.created };
  }

  /** The status to refuse this file deletion with, if a deletion failure is pending. */
  takeDeleteFileFailure(): 429 | 500 | null {
    const f = this.faults.deleteFileFailures;
    if (!f) return null;
    this.faults.deleteFileFailures = f.count > 1 ? { ...f, count: f.count - 1 } : null;
    return f.status;
  }

  /** The status to refuse this batch listing with, if a listing failure is pending. */
  takeListBatchesFailure(): 429 | 500 | null {
    const f = this.faults.listBatchesFailures;
    if (!f) return null;
    this.faults.listBatchesFailures = f.count > 1 ? { ...f, count: f.count - 1 } : null;
    return f.status;
  }

  takeChatFailure(): 429 | 500 | 503 | null {
    const f = this.faults.chatFailures;
    if (!f) return null;
    this.faults.chatFailures = f.count > 1 ? { ...f, count: f.count - 1 } : null;
    return f.status;
  }

  /**
   * Decides a new batch's fate, using up one of each pending "next N batches" counter. A batch that cannot fail as
   * a whole (an Anthropic Message Batch) leaves failNextBatches for the next OpenAI batch.
   */
  takeBatchPlan(options: { canFail?: boolean } = {}): BatchPlan {
    const f = this.faults;
    const fail = (options.canFail ?? true) && f.failNextBatches > 0;
    if (fail) f.failNextBatches -= 1;
    const expire = !fail && f.expireNextBatches > 0;
    if (expire) f.expireNextBatches -= 1;
    let stuck: BatchPlan['stuck'] = null;
    if (f.stuck) {
      stuck = { phase: f.stuck.phase, forMs: f.stuck.forMs };
      f.stuck = f.stuck.batches > 1 ? { ...f.stuck, batches: f.stuck.batches - 1 } : null;
    }
    let unknownStatus: string | null = null;
    if (f.unknownStatus) {
      unknownStatus = f.unknownStatus.status;
      f.unknownStatus = f.unknownStatus.batches > 1 ? { ...f.unknownStatus, batches: f.unknownStatus.batches - 1 } : null;
    }
    return {
      seed: f.seed,
      fail,
      expireFraction: expire ? f.expireCompletedFraction : null,
      stuck,
      unknownStatus,
      lineErrorRate: f.lineErrorRate,
      lineErrorStatus: f.lineErrorStatus,
      output: this.output(),
    };
  }
}
