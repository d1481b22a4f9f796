import { randomBytes } from 'node:crypto';
import { loadConfig, type Config } from '../../src/config.js';
import { silentLogger, type Logger } from '../../src/log.js';
import { createDb, createPool } from '../../src/db/db.js';
import { startTcpProxy, type TcpProxy } from './tcp-proxy.js';
import { startTool, type ToolRuntime } from '../../src/runtime.js';
import { registerPlatform } from '../../src/lti/registration.service.js';
import { platformInputOf, startDevLms, startMailCatcher, type MailCatcher } from '../../src/devlms/index.js';
import { startEmulator, type FaultsInput, type RunningEmulator } from '../../src/emulator/index.js';
import { createTestDatabase, type TestDatabase } from './db.js';
import { LtiBrowser } from './lti-browser.js';
import { freePort } from './ports.js';

export interface Stack {
  config: Config;
  db: TestDatabase;
  tool: ToolRuntime;
  toolUrl: string;
  devlms: Awaited<ReturnType<typeof startDevLms>>;
  devlmsUrl: string;
  /** The proxy between the tool and its database, when started with proxyDatabase. */
  dbProxy?: TcpProxy;
  /** The OpenAI emulator, when the stack was started with one. */
  emulator?: RunningEmulator;
  /** The dev LMS's mail catcher (the tool's SMTP server), when started with `mail`. */
  mail?: MailCatcher;
  browser(): LtiBrowser;
  close(): Promise<void>;
}

export interface StackOptions {
  role?: 'web' | 'worker' | 'all';
  /** Extra environment; a function gets the dev LMS's URL (its issuer), chosen when the stack starts. */
  env?: Record<string, string> | ((urls: { devlmsUrl: string }) => Record<string, string>);
  /** Register the dev LMS with the tool (default true), as `npm run lti -- register` would. */
  register?: boolean;
  /**
   * Start the OpenAI emulator too, and point the tool at it (OPENAI_BASE_URL). Batches finish at once unless
   * timings are given (milliseconds per phase).
   */
  /**
   * The tool reaches the database through a TCP proxy the test can cut (a database outage); the dev LMS keeps its
   * own direct connection.
   */
  proxyDatabase?: boolean;
  /** The tool's logger (default: silent). */
  logger?: Logger;
  /** Start the dev LMS's mail catcher and point the tool's SMTP_URL at it. */
  mail?: boolean;
  emulator?: boolean | { timings?: { validatingMs: number; inProgressMs: number; finalizingMs: number }; faults?: FaultsInput };
}

/** Environment for a tool under test: fresh secrets, its own database, quiet logs. */
export function testEnv(db: TestDatabase, port: number, extra: Record<string, string> = {}): Record<string, string> {
  return {
    NODE_ENV: 'test',
    LTI_KEY: randomBytes(32).toString('hex'),
    ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    DATABASE_URL: db.url,
    PORT: String(port),
    TOOL_URL: `http://localhost:${port}`,
    LOG_LEVEL: 'silent',
    ...extra,
  };
}

/**
 * The real tool and the real development LMS, each on its own port and host name (localhost vs 127.0.0.1, as an
 * LMS frames a tool cross-site), on a fresh database. The LMS is registered with the tool like an admin would.
 */
export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const db = await createTestDatabase();
  const [toolPort, lmsPort] = await Promise.all([freePort(), freePort()]);
  const devlmsUrl = `http://127.0.0.1:${lmsPort}`;
  let emulator: RunningEmulator | undefined;
  if (options.emulator) {
    const o = options.emulator === true ? {} : options.emulator;
    emulator = await startEmulator({ port: 0, host: '127.0.0.1', timings: o.timings ?? { validatingMs: 0, inProgressMs: 0, finalizingMs: 0 }, faults: o.faults });
  }
  const emulatorEnv: Record<string, string> = emulator ? { OPENAI_BASE_URL: emulator.apiBaseUrl, EMULATOR_URL: emulator.url } : {};
  const mail = options.mail ? await startMailCatcher() : undefined;
  const mailEnv: Record<string, string> = mail ? { SMTP_URL: mail.url, MAIL_FROM: 'llm-assess <no-reply@llm-assess.test>' } : {};
  const config = loadConfig(testEnv(db, toolPort, { ROLE: options.role ?? 'web', DEVLMS_URL: devlmsUrl, ...emulatorEnv, ...mailEnv, ...(typeof options.env === 'function' ? options.env({ devlmsUrl }) : (options.env ?? {})) }));
  const dbProxy = options.proxyDatabase ? await startTcpProxy('127.0.0.1', Number(new URL(db.url).port)) : undefined;
  const toolDatabase = dbProxy ? await proxiedDatabase(db, dbProxy) : { url: db.url, pool: db.pool, db: db.db, close: async () => {} };
  const tool = await startTool(config, options.logger ?? silentLogger, { database: toolDatabase });
  const devlms = await startDevLms({ pool: db.pool, url: devlmsUrl, toolUrl: config.toolUrl, port: lmsPort, host: '127.0.0.1', testHooks: true, mail });
  await devlms.devlms.seed();
  if (options.register !== false) {
    const reg = devlms.devlms.toolRegistration();
    await registerPlatform({ db: db.db, lti: tool.lti.lti, platforms: tool.tool!.platforms, allowInsecureLocalhost: true }, platformInputOf(reg), 'test');
  }
  return {
    config,
    db,
    tool,
    toolUrl: config.toolUrl,
    devlms,
    devlmsUrl,
    emulator,
    mail,
    dbProxy,
    browser: () => new LtiBrowser(),
    async close() {
      dbProxy?.restore();
      await devlms.close();
      await tool.close();
      await toolDatabase.close();
      await dbProxy?.close();
      await emulator?.close();
      await mail?.close();
      await db.drop();
    },
  };
}

/** The tool's own pool, through the proxy. */
async function proxiedDatabase(db: TestDatabase, proxy: TcpProxy) {
  const url = new URL(db.url);
  url.port = String(proxy.port);
  const pool = createPool(url.toString(), 5);
  // A cut connection errors on idle clients too; the pool replaces them, nothing to crash on.
  pool.on('error', () => {});
  return { url: url.toString(), pool, db: createDb(pool), close: () => pool.end() };
}
