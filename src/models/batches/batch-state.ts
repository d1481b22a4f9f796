import { sql, type SQL } from 'drizzle-orm';

/**
 * The batch state machine, in one place: created → submitted → processing → completed | failed | cancelled |
 * expired, and which step a batch needs next. Each step's condition is written twice, side by side — in
 * TypeScript (`needs`, `nextStep`: the kick after an administrator's action) and in SQL over the `batches` row
 * (`needsSql`, `NEXT_STEP_SQL`: the worker's sweep and each step's claim) — and test/batches.state.test.ts
 * checks in PostgreSQL that both sides agree on every combination of the columns they read.
 */

export const BATCH_STATUSES = ['created', 'submitted', 'processing', 'completed', 'failed', 'cancelled', 'expired'] as const;
export type BatchStatus = (typeof BATCH_STATUSES)[number];

/** Sent and not finished: accepted by the provider (still being validated), or running, finishing or being cancelled there. */
export const RUNNING_BATCH_STATUSES = ['submitted', 'processing'] as const satisfies readonly BatchStatus[];
/** Finished at the provider (or never sent): nothing moves a batch out of these. */
export const TERMINAL_BATCH_STATUSES = ['completed', 'failed', 'cancelled', 'expired'] as const satisfies readonly BatchStatus[];
export type TerminalBatchStatus = (typeof TERMINAL_BATCH_STATUSES)[number];

export function isTerminal(status: BatchStatus): status is TerminalBatchStatus {
  return (TERMINAL_BATCH_STATUSES as readonly BatchStatus[]).includes(status);
}

export function isRunning(status: BatchStatus): boolean {
  return (RUNNING_BATCH_STATUSES as readonly BatchStatus[]).includes(status);
}

/** The worker's steps, in the order they win when a batch needs more than one (a running batch asked to cancel also needs polls). */
export const BATCH_STEPS = ['cancel', 'submit', 'poll', 'ingest'] as const;
export type BatchStep = (typeof BATCH_STEPS)[number];

/** What the state machine reads of a batch (a `BatchRow` has it). */
export interface BatchState {
  status: BatchStatus;
  submitRequestedAt: Date | null;
  cancelRequestedAt: Date | null;
  cancelSentAt: Date | null;
  providerBatchId: string | null;
  ingestedAt: Date | null;
}

/** A list of statuses as SQL literals (`'created', 'submitted'`): statuses are constants of this module, never input. */
export function statusLiterals(statuses: readonly BatchStatus[]): SQL {
  return sql.raw(statuses.map((s) => `'${s}'`).join(', '));
}

/** `batches.status` is terminal (the SQL side of `isTerminal`). */
export const TERMINAL_SQL: SQL = sql`status in (${statusLiterals(TERMINAL_BATCH_STATUSES)})`;
/** `batches.status` is submitted or processing (the SQL side of `isRunning`). */
export const RUNNING_SQL: SQL = sql`status in (${statusLiterals(RUNNING_BATCH_STATUSES)})`;

interface StepRule {
  /** Whether the batch needs this step (ignoring when: a poll's time, a lease held). */
  when: (b: BatchState) => boolean;
  /** The same, as a condition on a `batches` row (columns unqualified). */
  sql: SQL;
}

const RULES: Record<BatchStep, StepRule> = {
  // An administrator (or a timeout) asked to cancel and the provider has not been asked yet. A batch never sent is
  // cancelled here, at once; a sent one is asked to cancel once.
  cancel: {
    when: (b) => b.ingestedAt == null && !isTerminal(b.status) && b.cancelRequestedAt != null && b.cancelSentAt == null,
    sql: sql`(ingested_at is null and not ${TERMINAL_SQL} and cancel_requested_at is not null and cancel_sent_at is null)`,
  },
  // An administrator confirmed sending, nobody cancelled, and the provider does not have it yet.
  submit: {
    when: (b) => b.ingestedAt == null && b.status === 'created' && b.submitRequestedAt != null && b.cancelRequestedAt == null && b.providerBatchId == null,
    sql: sql`(ingested_at is null and status = 'created' and submit_requested_at is not null and cancel_requested_at is null and provider_batch_id is null)`,
  },
  // At the provider, not finished: ask how it is going.
  poll: {
    when: (b) => b.ingestedAt == null && isRunning(b.status) && b.providerBatchId != null,
    sql: sql`(ingested_at is null and ${RUNNING_SQL} and provider_batch_id is not null)`,
  },
  // Finished at the provider and its result files not read yet.
  ingest: {
    when: (b) => b.ingestedAt == null && isTerminal(b.status) && b.providerBatchId != null,
    sql: sql`(ingested_at is null and ${TERMINAL_SQL} and provider_batch_id is not null)`,
  },
};

/** Whether the batch needs `step` now or later (the TypeScript side of `needsSql`). */
export function needs(step: BatchStep, b: BatchState): boolean {
  return RULES[step].when(b);
}

/** The condition that a `batches` row needs `step`: each step claims a batch only while it holds. */
export function needsSql(step: BatchStep): SQL {
  return RULES[step].sql;
}

/** The one step a batch needs next, or null when it needs none (not confirmed yet, or done). */
export function nextStep(b: BatchState): BatchStep | null {
  return BATCH_STEPS.find((step) => RULES[step].when(b)) ?? null;
}

/** `nextStep` over a `batches` row: the step's name, or null. */
export const NEXT_STEP_SQL: SQL = sql`(case ${sql.join(
  BATCH_STEPS.map((step) => sql`when ${RULES[step].sql} then ${sql.raw(`'${step}'`)}`),
  sql` `,
)} end)`;
