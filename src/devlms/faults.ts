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
});

export type FaultsInput = z.input<typeof faultsSchema>;
export type AreaFault = z.infer<typeof areaFault>;

/**
 * Injected failures, so a tool's retry and error paths can be tested against the real protocol: "the next 3
 * AGS calls answer 500". Each failing request uses one up; the state lives in this process only.
 */
export class Faults {
  private state: Partial<Record<FaultArea, AreaFault>> = {};

  /** Replaces every fault (areas not given are cleared). Throws a ZodError on a malformed spec. */
  set(input: FaultsInput): void {
    this.state = faultsSchema.parse(input);
  }

  current(): Partial<Record<FaultArea, AreaFault>> {
    return structuredClone(this.state);
  }

  /** Uses up one failure of the area, if one is pending. */
  take(area: FaultArea): AreaFault | null {
    const fault = this.state[area];
    if (!fault || fault.failNext <= 0) return null;
    fault.failNext -= 1;
    return { ...fault };
  }
}
