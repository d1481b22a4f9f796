import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'public/vendor/', 'coverage/', '.data/', 'src/models/migrations/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: { process: 'readonly', console: 'readonly', Buffer: 'readonly', URL: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', setInterval: 'readonly', clearInterval: 'readonly', fetch: 'readonly', AbortController: 'readonly', AbortSignal: 'readonly', URLSearchParams: 'readonly', structuredClone: 'readonly', TextEncoder: 'readonly', TextDecoder: 'readonly', Response: 'readonly', Blob: 'readonly', FormData: 'readonly', File: 'readonly', Headers: 'readonly', Request: 'readonly', performance: 'readonly', queueMicrotask: 'readonly', setImmediate: 'readonly' },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      '@typescript-eslint/no-explicit-any': 'error',
      'no-console': ['error', { allow: ['warn', 'error'] }],
      eqeqeq: ['error', 'smart'],
    },
  },
  {
    // Layers (ARCHITECTURE.md): models hold the rules and the SQL and know nothing of how they are reached —
    // no routes, LTI, HTTP or jobs. Errors they throw live in src/errors.ts.
    files: ['src/models/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['**/routes/*', '**/routes/**'], message: 'models must not import routes (ARCHITECTURE.md: layers).' },
            { group: ['**/lti/*', '**/lti/**', 'ltijs', 'ltijs/**'], message: 'models must not import the LTI layer (ARCHITECTURE.md: layers).' },
            { group: ['**/http/*', '**/http/**', 'express'], message: 'models must not import HTTP code; errors are in src/errors.ts (ARCHITECTURE.md: layers).' },
            { group: ['**/jobs/*', '**/jobs/**'], message: 'models must not import jobs; take an enqueue function (ARCHITECTURE.md: layers).' },
          ],
        },
      ],
    },
  },
  {
    // The grading core (building requests, judging answers, spotting injection) is pure: no database, HTTP, LTI,
    // jobs, models or providers, so every caller — queue, review page, editor, a future provider — shares it.
    files: ['src/grading/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: ['../*', '!../grading/*'], message: 'src/grading imports only its own files, zod and node: modules (ARCHITECTURE.md: layers).' }, { group: ['drizzle-orm', 'drizzle-orm/*', 'pg', 'express', 'ltijs', 'openai'], message: 'src/grading is pure: no database, HTTP or SDK.' }] },
      ],
    },
  },
  {
    // The statistics (agreement, kappa, calibration) are pure too: the Agreement page, the eval command and their tests
    // compute the same figures from the same functions.
    files: ['src/analytics/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: ['../*', '!../analytics/*'], message: 'src/analytics imports only its own files (ARCHITECTURE.md: layers).' }, { group: ['drizzle-orm', 'drizzle-orm/*', 'pg', 'express', 'ltijs', 'openai'], message: 'src/analytics is pure: no database, HTTP or SDK.' }] },
      ],
    },
  },
  {
    // Routes ask for work by name through the injected Jobs interface (src/job-queue.ts), never by importing a job:
    // a job imports the services routes import, and its definition belongs to the runner (src/jobs/runner.ts).
    files: ['src/routes/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: ['**/jobs/*', '**/jobs/**'], message: 'routes must not import jobs; enqueue by name through the injected Jobs (src/job-queue.ts).' }] },
      ],
    },
  },
  {
    // Browser scripts served to the LMS iframe.
    files: ['public/js/**/*.js'],
    languageOptions: { globals: { window: 'readonly', document: 'readonly', history: 'readonly', htmx: 'readonly', location: 'readonly', navigator: 'readonly' } },
  },
  {
    // Entry points and CLIs talk to the terminal.
    files: ['src/server.ts', 'src/demo.ts', 'src/cli/**/*.ts', 'src/emulator/main.ts', 'bench/**/*.ts', 'scripts/**/*', 'src/log.ts'],
    rules: { 'no-console': 'off' },
  },
);
