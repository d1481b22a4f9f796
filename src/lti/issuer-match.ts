/**
 * URL comparisons of LTI Dynamic Registration (1EdTech LTI-DR 1.0, 3.5.1), done on parsed URLs, never on strings:
 * `startsWith` let `http://127.0.0.1:4200` claim a configuration served from `http://127.0.0.1:42005`, and
 * `https://lms.uni.edu` one from `https://lms.uni.edu.attacker.tld`.
 */

function parse(raw: string): URL | null {
  try {
    return new URL(raw);
  } catch {
    return null;
  }
}

const segments = (path: string) => path.split('/').filter(Boolean);

/**
 * Whether a configuration served at `configUrl` may speak for `issuer`: same scheme, host and port exactly, and
 * the issuer's path a whole-segment prefix of the configuration URL's path (`/moodle` serves `/moodle/mod/…`,
 * not `/moodle2/…`). An issuer with a query or fragment is not a valid issuer.
 */
export function issuerServes(issuer: string, configUrl: string): boolean {
  const i = parse(issuer);
  const c = parse(configUrl);
  if (!i || !c || i.search || i.hash || i.username || i.password) return false;
  if (i.protocol !== c.protocol || i.hostname !== c.hostname || i.port !== c.port) return false;
  const issuerPath = segments(i.pathname);
  const configPath = segments(c.pathname);
  return issuerPath.length <= configPath.length && issuerPath.every((s, n) => s === configPath[n]);
}

/** Same scheme, host and port (the URL standard's origin; default ports count as given). */
export function sameOrigin(a: string, b: string): boolean {
  const x = parse(a);
  const y = parse(b);
  return Boolean(x && y && x.origin !== 'null' && x.origin === y.origin);
}
