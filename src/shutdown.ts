import type { Logger } from './log.js';

/**
 * SIGTERM/SIGINT → the given ordered close, once; a second signal or the timeout forces the exit, so a stuck
 * connection can never keep a deploy waiting. (ltijs would install its own SIGINT handler; we never let it.)
 */
export function installShutdown(logger: Logger, timeoutMs: number, close: () => Promise<void>): void {
  let shuttingDown = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (shuttingDown) {
      logger.warn('second signal: exiting now', { signal });
      process.exit(1);
    }
    shuttingDown = true;
    logger.info('shutting down', { signal });
    const force = setTimeout(() => {
      logger.error('shutdown timed out: exiting', { timeoutMs });
      process.exit(1);
    }, timeoutMs + 5000);
    force.unref();
    close()
      .then(() => {
        logger.info('shutdown complete');
        process.exit(0);
      })
      .catch((err) => {
        logger.error('shutdown failed', { err });
        process.exit(1);
      });
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  // A closed pipe on stdout (e.g. `npm run demo | head`) must not kill the server.
  process.stdout.on('error', () => {});
}
