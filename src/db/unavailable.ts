/**
 * Whether an error means the database could not be reached or dropped the connection (as opposed to a query that
 * failed on its own): the one case a request answers 503 "try again" rather than 500. Drivers wrap their errors
 * (drizzle's DrizzleQueryError, sequelize's ConnectionError), so the whole `cause` chain is read.
 */
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN']);
// PostgreSQL: 08xxx connection exceptions, 57P01–57P03 (server shutting down or starting), 53300 too many connections.
const SQLSTATE = /^(08\d{3}|57P0[123]|53300)$/;
const SEQUELIZE = /^Sequelize(Connection\w*|HostNotReachable|HostNotFound|AccessDenied|InvalidConnection)Error$/;
const MESSAGES = /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|connection timeout/i;

export function isDatabaseUnavailable(err: unknown): boolean {
  const seen = new Set<unknown>();
  for (let e = err as { code?: unknown; name?: unknown; message?: unknown; cause?: unknown; original?: unknown } | undefined; e && typeof e === 'object' && !seen.has(e); ) {
    seen.add(e);
    if (typeof e.code === 'string' && (NETWORK_CODES.has(e.code) || SQLSTATE.test(e.code))) return true;
    if (typeof e.name === 'string' && SEQUELIZE.test(e.name)) return true;
    if (typeof e.message === 'string' && MESSAGES.test(e.message)) return true;
    e = (e.cause ?? e.original) as typeof e;
  }
  return false;
}
