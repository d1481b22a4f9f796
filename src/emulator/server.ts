import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createEmulator, type Emulator, type EmulatorOptions } from './app.js';
import type { Faults, FaultsInput } from './faults.js';

export interface StartEmulatorOptions extends EmulatorOptions {
  /** 0 (the default) picks a free port. */
  port?: number;
  host?: string;
}

export interface RunningEmulator {
  /** http://host:port — what EMULATOR_URL holds. */
  url: string;
  /** url + /v1 — the base URL for the OpenAI SDK. */
  apiBaseUrl: string;
  port: number;
  emulator: Emulator;
  getFaults(): Faults;
  setFaults(faults: FaultsInput): Faults;
  reset(): void;
  /** Stops background work and the HTTP server, closing idle keep-alive sockets too. */
  close(): Promise<void>;
}

/** Starts the emulator on a port and resolves once it listens. */
export async function startEmulator(options: StartEmulatorOptions = {}): Promise<RunningEmulator> {
  const emulator = createEmulator(options);
  const host = options.host ?? '127.0.0.1';
  const server: Server = await new Promise((resolve, reject) => {
    const s = emulator.app.listen(options.port ?? 0, host, () => resolve(s));
    s.once('error', reject);
  });
  // Keep idle connections open longer than a client's pool does (undici: about 4 s): with Node's 5 s default, a
  // client on a busy machine could send on a connection the emulator was closing that moment (ECONNRESET). The
  // real APIs keep connections open for about a minute.
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  const { port } = server.address() as AddressInfo;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  let closing: Promise<void> | undefined;
  return {
    url,
    apiBaseUrl: `${url}/v1`,
    port,
    emulator,
    getFaults: emulator.getFaults,
    setFaults: emulator.setFaults,
    reset: emulator.reset,
    close() {
      closing ??= (async () => {
        await emulator.stop();
        await new Promise<void>((resolve, reject) => {
          server.close((err) => (err ? reject(err) : resolve()));
          server.closeAllConnections();
        });
      })();
      return closing;
    },
  };
}
