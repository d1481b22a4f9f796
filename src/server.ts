import { ConfigError, loadRuntimeConfig } from './config.js';
import { createLogger } from './log.js';
import { startTool } from './runtime.js';
import { installShutdown } from './shutdown.js';

/** Entry point of a deployed process: ROLE=web | worker | all (default). */
async function main(): Promise<void> {
  const config = loadRuntimeConfig();
  const logger = createLogger(config.logLevel, 'llm-assess', config.logFormat);
  const runtime = await startTool(config, logger);
  installShutdown(logger, config.shutdownTimeoutMs, () => runtime.close());
  if (runtime.server) console.log(`Tool: ${config.toolUrl} (listening on port ${runtime.port}, role ${config.role})`);
  else console.log(`Worker started (role ${config.role})`);
}

main().catch((err) => {
  // A configuration error says what to set: it is shown alone.
  if (err instanceof ConfigError) console.error(err.message);
  else console.error('llm-assess failed to start:', err instanceof Error ? err.message : err);
  process.exit(1);
});
