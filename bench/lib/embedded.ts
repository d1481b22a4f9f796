import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startEmbeddedPostgres } from '../../src/db/embedded.js';
import { ensureDatabase } from '../../src/db/db.js';

/** A throwaway PostgreSQL server for a benchmark run, with default (durable) settings unless told otherwise. */
export async function benchDatabase(name = 'bench', settings: Record<string, string> = {}) {
  const dir = mkdtempSync(path.join(tmpdir(), 'llm-assess-bench-'));
  const port = 30000 + Math.floor(Math.random() * 20000);
  const server = await startEmbeddedPostgres({ dir: path.join(dir, 'pg'), port, settings: { max_connections: '200', ...settings } });
  await ensureDatabase(server.serverUrl, name);
  return {
    url: server.urlFor(name),
    /** The server's data folder (its postmaster.pid names the server's process). */
    dataDir: path.join(dir, 'pg'),
    serverUrl: server.serverUrl,
    async stop() {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
