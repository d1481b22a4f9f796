import { createRequire } from 'node:module';
import Auth from 'ltijs/dist/Utils/Auth.js';

/**
 * The one place we reach inside ltijs. Its id_token validation (Auth.validateToken) fetches the platform's JWKS
 * on every launch with no cache and no timeout, checks nonces with a racy read-then-insert that forgets them
 * after 10 s, and accepts any deployment id. We validate launches ourselves (id-token.ts) before ltijs sees
 * them, hand the verified claims over here, and ltijs' own validator becomes a lookup: a token we did not
 * verify in this process, for this provider, is refused. ltijs is pinned to 5.9.9 so this seam cannot move.
 */

type Claims = Record<string, unknown>;
const handoffs = new WeakMap<object, Map<string, Claims>>();
let installed = false;

export class LaunchNotVerifiedError extends Error {
  constructor() {
    super('LAUNCH_NOT_VERIFIED');
  }
}

/** The ltijs this seam was written against (package.json pins it exactly). */
export const LTIJS_VERSION = '5.9.9';

/**
 * Refuses to start on another ltijs: the seam replaces one internal function by name, and a different release could
 * rename it, change its arguments or validate elsewhere — launches would then go unchecked or all fail.
 */
export function assertLtijsSeam(version: string = createRequire(import.meta.url)('ltijs/package.json').version, auth: { validateToken?: unknown } = Auth): void {
  if (version !== LTIJS_VERSION) {
    throw new Error(`llm-assess needs ltijs ${LTIJS_VERSION} (it verifies launches in place of ltijs' Auth.validateToken); ${version} is installed. Run npm ci.`);
  }
  if (typeof auth.validateToken !== 'function' || auth.validateToken.length !== 6) {
    throw new Error(`ltijs ${version} has no Auth.validateToken(token, devMode, params, getPlatform, key, database): the launch seam cannot be installed.`);
  }
}

function install(): void {
  if (installed) return;
  assertLtijsSeam();
  installed = true;
  Auth.validateToken = async (token, _devMode, _params, _getPlatform, _key, database) => {
    const verified = handoffs.get(database as object)?.get(token);
    if (!verified) throw new LaunchNotVerifiedError();
    handoffs.get(database as object)?.delete(token);
    return verified;
  };
}

/** Where a verified launch waits for ltijs to pick it up, one per ltijs provider (keyed by its database). */
export interface VerifiedLaunchHandoff {
  put(idToken: string, claims: Claims): void;
  discard(idToken: string): void;
}

export function launchHandoffFor(database: object): VerifiedLaunchHandoff {
  install();
  let map = handoffs.get(database);
  if (!map) {
    map = new Map();
    handoffs.set(database, map);
  }
  const m = map;
  return {
    put: (idToken, claims) => m.set(idToken, claims),
    discard: (idToken) => m.delete(idToken),
  };
}
