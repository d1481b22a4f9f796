import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * A small leveled logger: one event per line, on stderr, so stdout stays for what a person needs to read. In
 * production each line is one JSON object (`{"time","level","name","msg",...fields,"requestId"}`) for a log
 * collector; elsewhere (`LOG_FORMAT=pretty`) a line a person reads in a terminal.
 */
type Level = 'debug' | 'info' | 'warn' | 'error' | 'silent';
const ORDER: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

export type LogFormat = 'json' | 'pretty';

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

/** What every line written while handling one request carries (set by src/http/request-id.ts). */
export interface LogContext {
  requestId: string;
}

const context = new AsyncLocalStorage<LogContext>();

/** Runs fn with this context: every log line written inside it, however deep or late, carries the request id. */
export function withLogContext<T>(ctx: LogContext, fn: () => T): T {
  return context.run(ctx, fn);
}

/** The request being handled here, if any. */
export function currentLogContext(): LogContext | undefined {
  return context.getStore();
}

export function createLogger(level: Level, name = 'llm-assess', format: LogFormat = 'json'): Logger {
  const min = ORDER[level];
  const write = (lvl: Exclude<Level, 'silent'>, msg: string, fields?: Record<string, unknown>) => {
    if (ORDER[lvl] < min) return;
    const requestId = context.getStore()?.requestId;
    const time = new Date().toISOString();
    if (format === 'json') {
      const head = { time, level: lvl, name, msg };
      // The fixed keys once more after the fields, so a field named like one of them cannot overwrite it.
      const line = { ...head, ...fields, ...(requestId ? { requestId } : {}), ...head };
      process.stderr.write(`${toJson(line, () => ({ ...head, ...(requestId ? { requestId } : {}), fields: '[not serializable]' }))}\n`);
      return;
    }
    const all = requestId ? { ...fields, requestId } : fields;
    const extra = all && Object.keys(all).length ? ' ' + toJson(all, () => ({ fields: '[not serializable]' })) : '';
    process.stderr.write(`${time} ${lvl.toUpperCase().padEnd(5)} [${name}] ${msg}${extra}\n`);
  };
  return {
    debug: (m, f) => write('debug', m, f),
    info: (m, f) => write('info', m, f),
    warn: (m, f) => write('warn', m, f),
    error: (m, f) => write('error', m, f),
  };
}

/** A log line must never throw (a cycle, a BigInt in the fields): what cannot be written says so instead. */
function toJson(value: unknown, instead: () => unknown): string {
  try {
    return JSON.stringify(value, errorReplacer);
  } catch {
    return JSON.stringify(instead());
  }
}

function errorReplacer(_key: string, value: unknown): unknown {
  if (value instanceof Error) return describeError(value);
  return value;
}

const ERROR_FACTS = ['code', 'status', 'type', 'severity', 'constraint', 'table', 'column', 'routine'] as const;

/**
 * An error as logs show it: what failed and where, never the data it was about. Logs are read by people who may
 * not read students' work: Drizzle's message lists the query's parameters (submission text, names), PostgreSQL's
 * `detail` quotes the row, and its messages quote the value they refused. Those are left out; SQL identifiers stay.
 */
function describeError(err: Error, depth = 0): Record<string, unknown> {
  const facts = err as unknown as Record<string, unknown>;
  const out: Record<string, unknown> = { name: err.name, message: redact(err.message) };
  for (const key of ERROR_FACTS) if (typeof facts[key] === 'string' || typeof facts[key] === 'number') out[key] = facts[key];
  if (err.stack) out.stack = redact(err.stack);
  if (err.cause instanceof Error && depth < 4) out.cause = describeError(err.cause, depth + 1);
  return out;
}

const IDENTIFIER = /^[A-Za-z_][\w$.]{0,62}$/;

export function redact(text: string): string {
  return text
    .replace(/\nparams: [\s\S]*?(?=\n\s+at |$)/, '\nparams: [not logged]')
    .replace(/"((?:[^"\\]|\\.)*)"/g, (quoted, inner: string) => (IDENTIFIER.test(inner) ? quoted : '"[not logged]"'));
}

export const silentLogger: Logger = createLogger('silent');
