import { createRemoteJWKSet, errors as joseErrors, type JWTVerifyGetKey } from 'jose';

export interface ToolKeysOptions {
  /** How long a fetched JWKS is trusted before it is fetched again. */
  cacheMaxAgeMs: number;
  /** A tool's JWKS that does not answer in this time fails the request (a slow tool must not hang the platform). */
  timeoutMs: number;
}

/** The tool's JWKS could not be fetched (connection refused, DNS, HTTP error page…): the tool's problem, not ours. */
export class ToolJwksUnavailable extends Error {
  constructor(
    readonly jwksUri: string,
    cause: unknown,
  ) {
    super(`The tool's JWKS (${jwksUri}) could not be fetched: ${cause instanceof Error ? cause.message : String(cause)}.`);
    this.name = 'ToolJwksUnavailable';
  }
}

/**
 * Tools' public keys, fetched from each registration's `jwks_uri` and cached briefly, as platforms do. jose's
 * remote set refetches on an unknown `kid` (key rotation), at most once per cooldown.
 */
export class ToolKeys {
  private sets = new Map<string, JWTVerifyGetKey>();

  constructor(private readonly options: ToolKeysOptions) {}

  forUrl(jwksUri: string): JWTVerifyGetKey {
    let set = this.sets.get(jwksUri);
    if (!set) {
      const remote = createRemoteJWKSet(new URL(jwksUri), {
        timeoutDuration: this.options.timeoutMs,
        cacheMaxAge: this.options.cacheMaxAgeMs,
        cooldownDuration: Math.min(5_000, this.options.cacheMaxAgeMs),
      });
      // fetch() failures surface as plain TypeErrors (from another realm under Jest's VM): name them here.
      set = async (header, token) => {
        try {
          return await remote(header, token);
        } catch (err) {
          if (err instanceof joseErrors.JOSEError) throw err;
          throw new ToolJwksUnavailable(jwksUri, err);
        }
      };
      this.sets.set(jwksUri, set);
    }
    return set;
  }
}
