import { parseArgs } from 'node:util';
import { loadRuntimeConfig, type Config } from '../config.js';
import { HttpError } from '../errors.js';
import { createLogger } from '../log.js';
import { canvasConfig } from '../lti/canvas-config.js';
import { createRegistrationInvite } from '../lti/dynamic-registration.js';
import { PlatformDirectory } from '../lti/platform-directory.js';
import { createLtiProvider } from '../lti/provider.js';
import { allowDeployment, describePlatforms, registerPlatform, requirePlatform, requirePlatformById, revokeDeployment, setActive, type RegistrationDeps } from '../lti/registration.service.js';
import { openDatabase } from '../runtime.js';
import { runCli } from './run.js';

const USAGE = `Manage the LMS platforms llm-assess accepts launches from.

  npm run lti -- register --issuer <url> --client-id <id> --auth-url <url> --token-url <url> --jwks-url <url>
                          --deployment <id> [--deployment <id> …] [--name <text>] [--authorization-server <url>]
                          [--update]   change an existing registration of this issuer and client id
                          [--join <platform id>]  a new client of an LMS already registered: part of that platform
                                                  (same courses, people, queue and budgets)
                          [--separate]            … or a platform of its own (one of the two is required then)
  npm run lti -- list
  npm run lti -- deployment add    --issuer <url> --client-id <id> --deployment <id>
  npm run lti -- deployment remove --issuer <url> --client-id <id> --deployment <id>
  npm run lti -- activate   --issuer <url> --client-id <id>
  npm run lti -- deactivate --issuer <url> --client-id <id>
  npm run lti -- invite [--issuer <url> | --join <platform id>] [--note <text>]
                          one-time LTI Dynamic Registration link (24 h): for the LMS at --issuer (a platform of its
                          own), for another client of platform --join (its courses, people, queue and budgets), or
                          without either for any LMS not registered yet
  npm run lti -- canvas-config               the Canvas developer key JSON for this TOOL_URL

Canvas: issuer https://canvas.instructure.com (or your test/beta issuer), auth-url https://<host>/api/lti/authorize_redirect,
token-url https://<host>/login/oauth2/token, jwks-url https://<host>/api/lti/security/jwks; client id = the developer key id;
deployment = the id Canvas shows after you add the app to an account or course.
Moodle: issuer = the site URL, auth-url <site>/mod/lti/auth.php, token-url <site>/mod/lti/token.php,
jwks-url <site>/mod/lti/certs.php; client id and deployment id from the tool's "View configuration details".`;

function parseCommandLine() {
  return parseArgs({
    allowPositionals: true,
    options: {
      issuer: { type: 'string' },
      'client-id': { type: 'string' },
      'auth-url': { type: 'string' },
      'token-url': { type: 'string' },
      'jwks-url': { type: 'string' },
      'authorization-server': { type: 'string' },
      deployment: { type: 'string', multiple: true },
      name: { type: 'string' },
      note: { type: 'string' },
      update: { type: 'boolean' },
      join: { type: 'string' },
      separate: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}

/** What every sub-command gets: the parsed options, an open database and ltijs, and who to record as the actor. */
interface CommandContext {
  command: string;
  sub: string | undefined;
  values: ReturnType<typeof parseCommandLine>['values'];
  config: Config;
  deps: RegistrationDeps;
  by: string;
}

async function main(): Promise<number> {
  const { values, positionals } = parseCommandLine();
  const [command, sub] = positionals;
  if (!command || values.help) {
    console.log(USAGE);
    return command ? 0 : 1;
  }
  const config = loadRuntimeConfig();
  // The only command that needs no database: it prints the Canvas JSON for this TOOL_URL.
  if (command === 'canvas-config') {
    console.log(JSON.stringify(canvasConfig(config.toolUrl), null, 2));
    return 0;
  }
  const logger = createLogger(config.logLevel === 'info' ? 'warn' : config.logLevel, 'llm-assess', config.logFormat);
  // Beside a running demo or tool on the embedded database, use its server (it holds the data folder).
  const database = await openDatabase(config, logger, { attach: true });
  const lti = await createLtiProvider(config, database.url);
  const deps = {
    db: database.db,
    lti: lti.lti,
    platforms: new PlatformDirectory(database.db, lti.lti),
    allowInsecureLocalhost: config.env !== 'production',
  };
  const ctx: CommandContext = { command, sub, values, config, deps, by: `cli (${process.env.USER ?? 'unknown user'})` };
  try {
    switch (command) {
      case 'register':
        return await register(ctx);
      case 'list':
        return await list(ctx);
      case 'deployment':
        return await deployment(ctx);
      case 'activate':
      case 'deactivate':
        return await activateOrDeactivate(ctx);
      case 'invite':
        return await invite(ctx);
      default:
        console.error(`Unknown command "${command}".\n\n${USAGE}`);
        return 1;
    }
  } finally {
    await lti.close();
    await database.close();
  }
}

function platformIdOption(raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  if (!/^[1-9][0-9]{0,9}$/.test(raw)) throw new HttpError(400, 'usage', `--join takes a platform id (a number, see npm run lti -- list).`);
  return Number(raw);
}

function need(values: CommandContext['values'], name: 'issuer' | 'client-id'): string {
  const v = values[name];
  if (!v) throw new HttpError(400, 'usage', `--${name} is required.\n\n${USAGE}`);
  return v;
}

async function register({ values, config, deps, by }: CommandContext): Promise<number> {
  const result = await registerPlatform(
    deps,
    {
      issuer: values.issuer,
      clientId: values['client-id'],
      name: values.name ?? values.issuer,
      authenticationEndpoint: values['auth-url'],
      accesstokenEndpoint: values['token-url'],
      authorizationServer: values['authorization-server'],
      jwksUrl: values['jwks-url'],
      deploymentIds: values.deployment ?? [],
    },
    by,
    { replace: values.update === true, join: platformIdOption(values.join), separate: values.separate === true },
  );
  const what = result.created ? 'Registered' : 'Updated';
  const joined = result.platform.joinedPlatformId === null ? '' : ` as a client of platform ${result.platform.joinedPlatformId}`;
  console.log(`${what} ${result.platform.name}${joined} (issuer ${result.platform.issuer}, client ${result.platform.clientId}); deployments: ${result.deployments.join(', ')}`);
  console.log(`Tool URLs for the LMS: login ${config.toolUrl}/lti/login, launch/redirect ${config.toolUrl}/lti/launch, keys ${config.toolUrl}/lti/keys`);
  return 0;
}

async function list({ deps }: CommandContext): Promise<number> {
  const platforms = await describePlatforms(deps.db);
  if (!platforms.length) console.log('No platforms registered.');
  for (const p of platforms) {
    const joined = p.joinedPlatformId === null ? '' : `  client of platform ${p.joinedPlatformId}`;
    console.log(`${p.active ? 'active  ' : 'INACTIVE'}  ${p.id}  ${p.name}${joined}\n          issuer ${p.issuer}  client ${p.clientId}  deployments ${p.deployments.join(', ') || '(none)'}`);
  }
  return 0;
}

async function deployment({ sub, values, deps, by }: CommandContext): Promise<number> {
  const platform = await requirePlatform(deps, need(values, 'issuer'), need(values, 'client-id'));
  const deploymentId = values.deployment?.[0];
  if (sub === 'add') {
    const added = await allowDeployment(deps, platform.id, deploymentId, by);
    console.log(added ? `Deployment ${deploymentId} allowed.` : `Deployment ${deploymentId} was already allowed.`);
  } else if (sub === 'remove') {
    await revokeDeployment(deps, platform.id, deploymentId, by);
    console.log(`Deployment ${deploymentId} removed: its launches are refused from now on.`);
  } else {
    throw new HttpError(400, 'usage', USAGE);
  }
  return 0;
}

async function activateOrDeactivate({ command, values, deps, by }: CommandContext): Promise<number> {
  const platform = await requirePlatform(deps, need(values, 'issuer'), need(values, 'client-id'));
  await setActive(deps, platform.id, command === 'activate', by);
  console.log(`${platform.name} is now ${command === 'activate' ? 'active' : 'inactive'}.`);
  return 0;
}

async function invite({ values, config, deps, by }: CommandContext): Promise<number> {
  const joinId = platformIdOption(values.join);
  if (joinId !== undefined && values.issuer) throw new HttpError(400, 'usage', '--join takes the issuer of the platform it names: give --issuer or --join, not both.');
  const joins = joinId === undefined ? null : await requirePlatformById(deps, joinId);
  const issuer = joins?.issuer ?? values.issuer ?? null;
  if (issuer !== null && !URL.canParse(issuer)) throw new HttpError(400, 'usage', `--issuer must be the LMS's issuer URL, e.g. https://moodle.example.edu.`);
  const created = await createRegistrationInvite(deps.db, config.toolUrl, { createdBy: by, createdByPlatformId: null, issuer, joinPlatformId: joins?.id ?? null }, values.note);
  const scope = joins ? `only for another client of ${joins.name} (${issuer})` : issuer ? `only for the LMS ${issuer}, as a platform of its own` : 'for one LMS not registered yet';
  console.log(`Dynamic registration link (works once, until ${created.expiresAt.toISOString()}, ${scope}):\n${created.url}`);
  return 0;
}

runCli(main);
