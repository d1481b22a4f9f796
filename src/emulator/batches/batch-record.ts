import type { BatchPlan, Timings } from '../faults.js';
import type { BatchError, InputLine } from './input-validation.js';

/** The emulator's memory of one batch. Its status is not stored: lifecycle.ts derives it from the times below. */

export type TerminalStatus = 'completed' | 'failed' | 'expired' | 'cancelled';

export interface LineOutcome {
  customId: string;
  ok: boolean;
  /** The complete output- or error-file line. */
  json: string;
  usage: { input: number; cached: number; output: number; reasoning: number } | null;
}

export interface FinalState {
  status: TerminalStatus;
  atMs: number;
  /** Phase start times reached before the end (ms). */
  inProgressAt: number | null;
  finalizingAt: number | null;
  cancellingAt: number | null;
  /** Why a failed batch failed. */
  errors: BatchError[] | null;
  outputFileId: string | null;
  errorFileId: string | null;
  counts: { total: number; completed: number; failed: number };
  usage: UsageTotals;
}

export interface UsageTotals {
  input: number;
  cached: number;
  output: number;
  reasoning: number;
}

export interface BatchRecord {
  id: string;
  inputFileId: string;
  endpoint: string;
  completionWindow: string;
  metadata: Record<string, string> | null;
  /** output_expires_after.seconds from the create request; null = the default (30 days). */
  outputTtlSeconds: number | null;
  createdAtMs: number;
  expiresAtMs: number;
  timings: Timings;
  plan: BatchPlan;
  /** Set once validation ran; null while it runs. */
  validation: { atMs: number; ok: true; total: number } | { atMs: number; ok: false; errors: BatchError[] } | null;
  model: string | null;
  /** Lines in output order, until graded (bodies are dropped once answered, to free memory). */
  pending: InputLine[];
  /** custom ids in output order: lines never run (expired, cancelled) are listed from here. */
  order: string[];
  /** Answers in output order, appended by the runner. */
  outcomes: LineOutcome[];
  /** When the runner answered every line it was going to answer. */
  gradedAtMs: number | null;
  cancel: { atMs: number; doneCount: number } | null;
  final: FinalState | null;
}

export function emptyUsage(): UsageTotals {
  return { input: 0, cached: 0, output: 0, reasoning: 0 };
}
