/** A small leveled logger: one line per event, on stderr, so stdout stays for what a person needs to read. */
type Level = 'debug' | 'info' | 'warn' | 'error' | 'silent';
const ORDER: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

export function createLogger(level: Level, name = 'llm-assess'): Logger {
  const min = ORDER[level];
  const write = (lvl: Exclude<Level, 'silent'>, msg: string, fields?: Record<string, unknown>) => {
    if (ORDER[lvl] < min) return;
    const extra = fields && Object.keys(fields).length ? ' ' + JSON.stringify(fields, errorReplacer) : '';
    process.stderr.write(`${new Date().toISOString()} ${lvl.toUpperCase().padEnd(5)} [${name}] ${msg}${extra}\n`);
  };
  return {
    debug: (m, f) => write('debug', m, f),
    info: (m, f) => write('info', m, f),
    warn: (m, f) => write('warn', m, f),
    error: (m, f) => write('error', m, f),
  };
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
