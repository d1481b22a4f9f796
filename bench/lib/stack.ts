import { randomBytes } from 'node:crypto';
import { loadConfig } from '../../src/config.js';
import { createDb, createPool } from '../../src/db/db.js';
import { startDevLms } from '../../src/devlms/index.js';
import { silentLogger } from '../../src/log.js';
import { registerPlatform } from '../../src/lti/registration.service.js';
import { startTool } from '../../src/runtime.js';
import { freePort } from '../../test/helpers/ports.js';
import { benchDatabase } from './embedded.js';

/**
 * The tool as deployed (production mode, web role, quiet) and the development LMS on a fresh bench database,
 * registered with each other as an administrator would. close() stops them in order.
 */
export async function startBenchStack(databaseName: string, secrets: { LTI_KEY: string; ENCRYPTION_KEY: string } = { LTI_KEY: randomBytes(32).toString('hex'), ENCRYPTION_KEY: randomBytes(32).toString('base64') }) {
  const database = await benchDatabase(databaseName);
  const pool = createPool(database.url, 10);
  const db = createDb(pool);
  const [toolPort, lmsPort] = await Promise.all([freePort(), freePort()]);
  const config = loadConfig({
    NODE_ENV: 'production',
    ...secrets,
    DATABASE_URL: database.url,
    TOOL_URL: `http://localhost:${toolPort}`,
    PORT: String(toolPort),
    ROLE: 'web',
    LOG_LEVEL: 'silent',
    // Benchmarks launch hundreds of times a minute from 127.0.0.1: they measure latency, not the per-IP limit.
    RATE_LIMIT_LTI_LAUNCHES_PER_MINUTE: '1000000',
  });
  // The dev LMS answers on loopback over http, which production's rules for calls to LMS URLs refuse (its key set
  // could not be fetched): only those rules are relaxed, everything else runs as deployed.
  config.lti.outbound = { requireHttps: false, allowLoopback: true, allowPrivate: true };
  const tool = await startTool(config, silentLogger);
  const lms = await startDevLms({ pool, url: `http://127.0.0.1:${lmsPort}`, toolUrl: config.toolUrl, port: lmsPort, host: '127.0.0.1' });
  const reg = lms.devlms.toolRegistration();
  await registerPlatform({ db, lti: tool.lti.lti, platforms: tool.tool!.platforms, allowInsecureLocalhost: true }, { ...reg, deploymentIds: [reg.deploymentId] }, 'bench');
  return {
    config,
    database,
    db,
    pool,
    tool,
    lms,
    async close() {
      await lms.close();
      await tool.close();
      await pool.end();
      await database.stop();
    },
  };
}
