import { ConfigError, loadRuntimeConfig } from '../config.js';
import { createLogger } from '../log.js';
import { FaultsError } from './faults.js';
import { startEmulator } from './server.js';

/**
 * `npm run emulator`: the OpenAI Files + Batches + Chat Completions emulator alone, on EMULATOR_PORT, with the
 * EMULATOR_*_MS timings and EMULATOR_FAULTS from the environment. See src/emulator/README.md.
 */
async function main(): Promise<void> {
  const config = loadRuntimeConfig();
  const logger = createLogger(config.logLevel, 'emulator', config.logFormat);
  let emulator;
  try {
    emulator = await startEmulator({
      port: config.emulator.port,
      host: config.host ?? '127.0.0.1',
      timings: config.emulator.timings,
      faultsJson: config.emulator.faultsJson,
      logger,
    });
  } catch (err) {
    if (err instanceof FaultsError) {
      console.error(`EMULATOR_FAULTS is invalid: ${err.problems.join('; ')}. See src/emulator/README.md for the format.`);
      process.exit(1);
    }
    throw err;
  }
  console.log(`Emulator: ${emulator.url}`);
  console.log(`OpenAI base URL: ${emulator.apiBaseUrl} (any API key is accepted)`);
  const faults = emulator.getFaults();
  const active = Object.entries(faults).filter(([k, v]) => k !== 'seed' && v !== null && v !== 0 && !(k === 'lineErrorStatus' || k === 'expireCompletedFraction'));
  if (active.length) console.log(`Faults: ${JSON.stringify(Object.fromEntries(active))}`);

  const stop = () => {
    emulator
      .close()
      .then(() => process.exit(0))
      .catch((err) => {
        console.error('Emulator shutdown failed:', err instanceof Error ? err.message : err);
        process.exit(1);
      });
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((err) => {
  // A configuration error says what to set: it is shown alone.
  if (err instanceof ConfigError) console.error(err.message);
  else console.error('The emulator failed to start:', err instanceof Error ? err.message : err);
  process.exit(1);
});
