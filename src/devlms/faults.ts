import { z } from 'zod';

/** Which part of the platform a fault hits. */
export const FAULT_AREAS = ['ags', 'nrps', 'token', 'jwks'] as const;
export type FaultArea = (typeof FAULT_AREAS)[number];

const areaFault = z.strictObject({
  /** How many of the next requests to the area fail. */
  failNext: z.number().int().min(0).max(10_000),
  status: z.number().int().refine((n) => n === 200 || (n >= 400 && n <= 599), 'must be 200 (slow only) or 400–599').default(500),
  /** Sent as `Retry-After` (useful with 429 / 503). */
  retryAfterSeconds: z.number().int().min(0).max(3600).optional(),
  /** Each affected request first waits this long (a slow LMS); with status 200 it then answers normally. */
  delayMs: z.number().int().min(0).max(60_000).optional(),
});

export const faultsSchema = z.strictObject({
  ags: areaFault.optional(),
  nrps: areaFault.optional(),
  token: areaFault.optional(),
  /** The platform's public key set: a tool must cache keys and time out on a slow or failing LMS. */
  jwks: areaFault.optional(),
  /**
   * A steady limit on score posts (not a count of failures): at most `perSecond` in each clock second, the rest
   * answered 429 with `Retry-After: 1`, as an LMS protecting itself from a tool posting a term's grades at once.
   */
  scoreRate: z.strictObject({ perSecond: z.number().int().min(1).max(100_000) }).optional(),
});

export type FaultsInput = z.input<typeof faultsSchema>;
export type AreaFault = z.infer<typeof areaFault>;

/**
 * Injected failures, so a tool's retry and error paths can be tested against the real protocol: "the next 3
 * AGS calls answer 500". Each failing request uses one up; the state lives in this process only.
 */
export class Faults {
  private state: Partial<Record<FaultArea, AreaFault>> & { scoreRate?: { perSecond: number } } = {};
  private window = { second: 0, count: 0 };
  /** Score posts answered 429 by the rate limit, since the limit was set. */
  rateLimited = 0;

  /** Replaces every fault (areas not given are cleared). Throws a ZodError on a malformed spec. */
  set(input: FaultsInput): void {
    this.state = faultsSchema.parse(input);
    this.window = { second: 0, count: 0 };
    this.rateLimited = 0;
  }

  /** Whether a score post fits this second's allowance (always, without a limit). */
  takeScoreSlot(now = Date.now()): boolean {
    const limit = this.state.scoreRate?.perSecond;
    if (!limit) return true;
    const second = Math.floor(now / 1000);
    if (second !== this.window.second) this.window = { second, count: 0 };
    if (this.window.count >= limit) {
      this.rateLimited += 1;
      return false;
    }
    this.window.count += 1;
    return true;
  }

  current(): Partial<Record<FaultArea, AreaFault>> & { scoreRate?: { perSecond: number } } {
    return structuredClone(this.state);
  }

  /** Uses up one failure of the area, if one is pending. */
  take(area: FaultArea): AreaFault | null {
    const fault = this.state[area] as AreaFault | undefined;
    if (!fault || fault.failNext <= 0) return null;
    fault.failNext -= 1;
    return { ...fault };
  }
}
