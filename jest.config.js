/**
 * Jest in ESM mode (the project is ESM). ts-jest only transpiles (isolatedModules); `npm run typecheck` checks
 * types. One PostgreSQL server serves the run; every test file gets its own database cloned from a migrated
 * template (test/global-setup.ts).
 */
export default {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { useESM: true }] },
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  globalSetup: '<rootDir>/test/global-setup.mjs',
  globalTeardown: '<rootDir>/test/global-teardown.mjs',
  setupFiles: ['<rootDir>/test/setup-key-pool.ts'],
  testMatch: ['<rootDir>/test/**/*.test.ts', '<rootDir>/e2e/**/*.test.ts'],
  maxWorkers: 2,
  testTimeout: 30_000,
  // Servers close their sockets on teardown; a leaked handle is a bug to find, not to hide with forceExit.
  detectOpenHandles: false,
  // A worker that held a few hundred MB takes 0.3–0.6 s to exit on a loaded 2-core machine, with nothing left
  // open (traced): Jest's 500 ms default then force-kills it and warns of a leak that is not there.
  workerGracefulExitTimeout: 5000,
};
