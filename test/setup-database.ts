import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startEmbeddedPostgres, type EmbeddedDatabase } from '../src/db/embedded.js';
import { createDb, createPool, ensureDatabase, migrateDatabase } from '../src/db/db.js';
import { TEMPLATE_DB } from './helpers/db.js';
import { prepareKeyPool } from './key-pool.js';

declare global {
  var __TEST_PG__: EmbeddedDatabase | undefined;
}

/** One real PostgreSQL server for the run, with a migrated template database every test file clones. */
export default async function globalSetup(): Promise<void> {
  const keyPool = prepareKeyPool();
  if (process.env.TEST_DATABASE_SERVER_URL) {
    // A server given from outside (e.g. CI with a system PostgreSQL): only the template is needed.
    await prepareTemplate(process.env.TEST_DATABASE_SERVER_URL);
    process.env.TEST_RSA_KEY_POOL = await keyPool;
    return;
  }
  const dir = mkdtempSync(path.join(tmpdir(), 'llm-assess-test-'));
  const port = 20000 + Math.floor(Math.random() * 20000);
  const server = await startEmbeddedPostgres({
    dir: path.join(dir, 'pg'),
    port,
    // Durability is not what these tests test; speed is what they need.
    settings: { fsync: 'off', synchronous_commit: 'off', full_page_writes: 'off', max_connections: '300' },
  });
  globalThis.__TEST_PG__ = server;
  process.env.TEST_DATABASE_SERVER_URL = server.serverUrl;
  await prepareTemplate(server.serverUrl);
  process.env.TEST_RSA_KEY_POOL = await keyPool;
}

async function prepareTemplate(serverUrl: string): Promise<void> {
  await ensureDatabase(serverUrl, TEMPLATE_DB);
  const pool = createPool(`${serverUrl}/${TEMPLATE_DB}`, 2);
  try {
    await migrateDatabase(createDb(pool));
  } finally {
    await pool.end();
  }
}
