import { randomBytes } from 'node:crypto';
import { loadConfig, type Config } from '../../src/config.js';
import { silentLogger } from '../../src/log.js';
import { createProviders } from '../../src/providers/index.js';
import type { RootDb } from '../../src/db/db.js';
import type { BatchWorker } from '../../src/models/batches/batch-worker.js';

/** A worker's configuration for a batch benchmark: production mode, fresh secrets, quiet, against an emulator. */
export function benchBatchConfig(databaseUrl: string, openaiBaseUrl: string, extra: Record<string, string> = {}): Config {
  return loadConfig({
    NODE_ENV: 'production',
    LTI_KEY: randomBytes(32).toString('hex'),
    ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    DATABASE_URL: databaseUrl,
    TOOL_URL: 'https://tool.example.edu',
    OPENAI_BASE_URL: openaiBaseUrl,
    BATCH_MIN_SIZE: '1',
    LOG_LEVEL: 'silent',
    ...extra,
  });
}

/** The batch worker a benchmark drives by hand. */
export function benchWorker(db: RootDb, config: Config): BatchWorker {
  const providers = createProviders(config);
  return { db, provider: providers.get('openai'), providers, settings: config.batches, encryptionKey: config.encryptionKey, logger: silentLogger, name: 'bench' };
}
