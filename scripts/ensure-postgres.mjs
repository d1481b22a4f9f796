// The standalone-PostgreSQL tests (test/standalone-postgres.e2e.test.ts) run the tool against Debian's PostgreSQL,
// not the embedded one. Install it when missing. Only the binaries are used: each test starts its own cluster.
import { existsSync, readdirSync } from 'node:fs';
import { execFileSync } from 'node:child_process';

const ROOT = '/usr/lib/postgresql';
const installed = () => existsSync(ROOT) && readdirSync(ROOT).some((v) => existsSync(`${ROOT}/${v}/bin/initdb`));
if (installed()) process.exit(0);

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
const sudo = isRoot ? [] : ['sudo', '-n'];
console.log("PostgreSQL's server binaries are missing: installing Debian's postgresql for the standalone-database tests…");
try {
  const run = (args) => execFileSync(sudo.length ? sudo[0] : args[0], sudo.length ? [...sudo.slice(1), ...args] : args.slice(1), { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  run(['apt-get', 'update']);
  run(['apt-get', 'install', '-y', '--no-install-recommends', 'postgresql']);
} catch (err) {
  console.error(`Could not install postgresql (${err.message}). Install it with: apt-get install -y postgresql`);
  process.exit(1);
}
if (!installed()) {
  console.error(`postgresql installed but no ${ROOT}/<version>/bin/initdb was found.`);
  process.exit(1);
}
