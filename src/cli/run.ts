import { ConfigError } from '../config.js';
import { HttpError } from '../errors.js';

/**
 * Runs a CLI's main and exits with its code. A configuration or input problem prints its own message (exit 1),
 * anything else "Failed:" and the error's message — never a stack trace for an operator to decode.
 */
export function runCli(main: () => Promise<number>): void {
  main()
    .then((code) => process.exit(code))
    .catch((err) => {
      if (err instanceof ConfigError || err instanceof HttpError) console.error(err.message);
      else console.error('Failed:', err instanceof Error ? err.message : err);
      process.exit(1);
    });
}
