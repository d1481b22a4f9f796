import { AsyncLocalStorage } from 'node:async_hooks';
import type { NextFunction, Request, Response } from 'express';
import type { ProviderInstance } from 'ltijs';

/**
 * ltijs validates a session with database reads and, when one throws, calls the invalid-token handler with the
 * error's message only: a database outage looked like "your session is not valid" (401) and was never logged.
 * Each request runs in a scope that keeps the first error ltijs' database plugin threw, so the failure handlers
 * can answer it as what it is (503, logged, with a reference) and keep 401 for real ltik and cookie failures.
 */
const scopes = new AsyncLocalStorage<{ error?: unknown }>();
const wrapped = new WeakSet<object>();
const METHODS = ['Get', 'Insert', 'Replace', 'Modify', 'Delete'] as const;

function watch(database: Record<string, unknown>): void {
  if (wrapped.has(database)) return;
  wrapped.add(database);
  for (const name of METHODS) {
    const original = database[name];
    if (typeof original !== 'function') continue;
    database[name] = async function (this: unknown, ...args: unknown[]) {
      try {
        return await (original as (...a: unknown[]) => Promise<unknown>).apply(this, args);
      } catch (err) {
        const scope = scopes.getStore();
        if (scope && scope.error === undefined) scope.error = err;
        throw err;
      }
    };
  }
}

/** Mount before ltijs' app: every request gets its scope. */
export function trackLtijsDatabaseErrors(lti: ProviderInstance) {
  watch(lti.Database as unknown as Record<string, unknown>);
  return (_req: Request, _res: Response, next: NextFunction): void => scopes.run({}, next);
}

/** The database error ltijs met while handling this request, if any. */
export function ltijsDatabaseError(): unknown {
  return scopes.getStore()?.error;
}
