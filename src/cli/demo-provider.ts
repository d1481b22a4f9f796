import type { Config } from '../config.js';
import type { Logger } from '../log.js';

/** The emulator the configuration points at, or one started here for this run when none answers (demo mode only). */
export async function demoProviderConfig(config: Config, logger: Logger): Promise<{ config: Pick<Config, 'openai'>; close: () => Promise<void> }> {
  try {
    const res = await fetch(`${config.emulator.url}/__emulator/health`, { signal: AbortSignal.timeout(1500) });
    if (res.ok) return { config, close: async () => {} };
  } catch {
    // Nobody listens: start one below.
  }
  const { startEmulator } = await import('../emulator/index.js');
  const emulator = await startEmulator({ port: 0, host: '127.0.0.1', timings: { validatingMs: 0, inProgressMs: 0, finalizingMs: 0 }, logger });
  return { config: { openai: { ...config.openai, baseUrl: emulator.apiBaseUrl } }, close: () => emulator.close() };
}
