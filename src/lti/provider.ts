import ltijs, { type ProviderInstance } from 'ltijs';
import Database from 'ltijs-sequelize';
import type { Config } from '../config.js';

export const LTI_ROUTES = {
  launch: '/lti/launch',
  login: '/lti/login',
  keys: '/lti/keys',
  /** ltijs' open dynamic registration route: left disabled; ours needs an admin-issued link. */
  ltijsRegister: '/lti/register',
} as const;

export interface LtiProvider {
  lti: ProviderInstance;
  close(): Promise<void>;
}

/**
 * A fresh ltijs provider on our PostgreSQL database (ltijs-sequelize keeps its own tables there).
 * ltijs exports one instance per process; its class makes independent ones, so tests and tools can run
 * several. We never call deploy(): it installs its own SIGINT handler and exits the process on failure
 * (trap 8); we set the database up ourselves and the server shuts it down in order.
 */
export async function createLtiProvider(config: Config, databaseUrl: string): Promise<LtiProvider> {
  const ProviderClass = (ltijs.Provider as unknown as { constructor: new () => ProviderInstance }).constructor;
  const lti = new ProviderClass();
  const url = new URL(databaseUrl);
  const plugin = new Database(decodeURIComponent(url.pathname.slice(1)), decodeURIComponent(url.username), decodeURIComponent(url.password), {
    host: url.hostname,
    port: Number(url.port || 5432),
    dialect: 'postgres',
    logging: false,
    pool: { max: 5, min: 0, idle: 10_000 },
  });
  lti.setup(
    config.lti.key,
    { plugin },
    {
      appRoute: LTI_ROUTES.launch,
      loginRoute: LTI_ROUTES.login,
      keysetRoute: LTI_ROUTES.keys,
      dynRegRoute: LTI_ROUTES.ltijsRegister,
      // Trap 4: ltijs reflects any origin with credentials unless told not to.
      cors: false,
      // Trap 1: cross-site cookies inside LMS iframes (Partitioned is added by our cookie middleware).
      cookies: { secure: true, sameSite: 'None' },
      tokenMaxAge: config.lti.tokenMaxAgeSeconds,
      devMode: false,
    },
  );
  await withQuietConsole(() => plugin.setup());
  return {
    lti,
    close: async () => {
      await plugin.Close();
    },
  };
}

/** ltijs-sequelize logs its own table migrations to the console on a new database; keep stdout for people. */
async function withQuietConsole<T>(fn: () => Promise<T>): Promise<T> {
  /* eslint-disable no-console -- silencing a library's console output is the point here */
  const log = console.log;
  const info = console.info;
  console.log = () => {};
  console.info = () => {};
  try {
    return await fn();
  } finally {
    console.log = log;
    console.info = info;
  }
  /* eslint-enable no-console */
}
