import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { z } from 'zod';
import type { OutboundPolicy } from './net/outbound.js';
import { envSchema, type AdminAllowlistEntry } from './config.env.js';
import type { BatchSettings, GradeSyncSettings, RateLimitSettings, SampleTestSettings } from './config.settings.js';
export type { BatchSettings, GradeSyncSettings, RateLimitSettings, SampleTestSettings };
import { createKeyring, LEGACY_KEY_ID, type Keyring } from './crypto/content.js';
export type { AdminAllowlistEntry };

/**
 * The one reader of the environment. Everything has a working default for local use;
 * in production the secrets must be set explicitly, so a deployment can never run on
 * the publicly known development keys.
 */
export interface Config {
  env: 'development' | 'test' | 'production';
  role: 'all' | 'web' | 'worker';
  host: string | undefined;
  port: number;
  toolUrl: string;
  trustProxy: boolean;
  database: { url: string | undefined; poolMax: number; embeddedDir: string; embeddedPort: number };
  lti: {
    key: string;
    tokenMaxAgeSeconds: number;
    clockSkewSeconds: number;
    jwksCacheTtlSeconds: number;
    jwksTimeoutMs: number;
    adminAllowlist: AdminAllowlistEntry[];
    /**
     * What dynamic registration may call: in production https only and no loopback or private addresses (unless
     * LTI_REGISTRATION_PRIVATE_NETWORK allows an LMS on the campus network); elsewhere the dev LMS on loopback.
     */
    outbound: OutboundPolicy;
  };
  /**
   * The content keyring (ENCRYPTION_KEYS, with ENCRYPTION_KEY as the key `k1`): the first key encrypts, every key
   * decrypts. Still named encryptionKey, the name it had as a single key, so its many readers did not change.
   */
  encryptionKey: Keyring;
  openai: { apiKey: string | undefined; baseUrl: string; demoMode: boolean };
  /**
   * Anthropic Message Batches: the real API with ANTHROPIC_API_KEY, else the emulator's Anthropic side (no /v1: the
   * SDK adds it) — but only when OpenAI is simulated too (`available`): real OpenAI grades never sit beside
   * simulated Claude ones. Without it, Anthropic is not offered.
   */
  anthropic: { apiKey: string | undefined; baseUrl: string; demoMode: boolean; available: boolean };
  emulator: {
    port: number;
    url: string;
    timings: { validatingMs: number; inProgressMs: number; finalizingMs: number };
    faultsJson: string | undefined;
  };
  devlms: { port: number; url: string; smtpPort: number };
  submissionMaxChars: number;
  /** Plain-text and source-code files. */
  submissionMaxFileBytes: number;
  /** PDF and Word (.docx) files. */
  submissionMaxDocumentBytes: number;
  submissionMaxPdfPages: number;
  sampleTests: SampleTestSettings;
  /** Emergency overrides: the most their estimates may add up to per platform and month (0: none allowed). */
  budgetOverrideCapMicros: number;
  rateLimits: RateLimitSettings;
  batches: BatchSettings;
  /** How often a worker scans for due jobs it was not notified of (scheduled and recurring ones). */
  jobsProcessEveryMs: number;
  gradeSync: GradeSyncSettings;
  shutdownTimeoutMs: number;
  logLevel: 'debug' | 'info' | 'warn' | 'error' | 'silent';
  /** JSON lines in production unless LOG_FORMAT says otherwise; readable lines elsewhere (the demo, development). */
  logFormat: 'json' | 'pretty';
  /** The bearer token of GET /metrics; undefined turns the endpoint off. */
  metricsToken: string | undefined;
  /** Where a ROLE=worker process serves its /metrics and /healthz (undefined: it listens nowhere). */
  workerMetricsPort: number | undefined;
  /** E-mail notices (SMTP_URL unset: in-app only). */
  mail: { smtpUrl: string | undefined; from: string; maxAttempts: number };
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Parses the environment (or the given variables) into a Config, or throws a ConfigError naming each bad variable. */
export function loadConfig(source: Record<string, string | undefined> = process.env): Config {
  const e = parseEnvironment(source);
  const emulatorUrl = e.EMULATOR_URL ?? `http://127.0.0.1:${e.EMULATOR_PORT}`;
  const toolUrl = e.TOOL_URL ?? `http://localhost:${e.PORT}`;
  return {
    env: e.NODE_ENV,
    role: e.ROLE,
    host: e.HOST,
    port: e.PORT,
    toolUrl,
    trustProxy: e.TRUST_PROXY,
    database: {
      url: e.DATABASE_URL,
      poolMax: e.DATABASE_POOL_MAX,
      embeddedDir: e.EMBEDDED_PG_DIR,
      embeddedPort: e.EMBEDDED_PG_PORT,
    },
    lti: ltiSettings(e),
    encryptionKey: contentKeyring(e),
    openai: {
      apiKey: e.OPENAI_API_KEY,
      // Without a key the app talks to the local emulator: demo mode, and every page says so.
      baseUrl: e.OPENAI_BASE_URL ?? (e.OPENAI_API_KEY ? 'https://api.openai.com/v1' : `${emulatorUrl}/v1`),
      demoMode: !e.OPENAI_API_KEY,
    },
    anthropic: {
      apiKey: e.ANTHROPIC_API_KEY,
      baseUrl: e.ANTHROPIC_BASE_URL ?? (e.ANTHROPIC_API_KEY ? 'https://api.anthropic.com' : emulatorUrl),
      demoMode: !e.ANTHROPIC_API_KEY,
      available: Boolean(e.ANTHROPIC_API_KEY || e.ANTHROPIC_BASE_URL || !e.OPENAI_API_KEY),
    },
    emulator: {
      port: e.EMULATOR_PORT,
      url: emulatorUrl,
      timings: { validatingMs: e.EMULATOR_VALIDATING_MS, inProgressMs: e.EMULATOR_IN_PROGRESS_MS, finalizingMs: e.EMULATOR_FINALIZING_MS },
      faultsJson: e.EMULATOR_FAULTS,
    },
    devlms: { port: e.DEVLMS_PORT, url: e.DEVLMS_URL ?? `http://127.0.0.1:${e.DEVLMS_PORT}`, smtpPort: e.DEVLMS_SMTP_PORT },
    submissionMaxChars: e.SUBMISSION_MAX_CHARS,
    submissionMaxFileBytes: e.SUBMISSION_MAX_FILE_BYTES,
    submissionMaxDocumentBytes: e.SUBMISSION_MAX_DOCUMENT_BYTES,
    submissionMaxPdfPages: e.SUBMISSION_MAX_PDF_PAGES,
    sampleTests: { maxChars: e.SAMPLE_TEST_MAX_CHARS, maxCostMicros: e.SAMPLE_TEST_MAX_COST_MICROS },
    budgetOverrideCapMicros: e.BUDGET_OVERRIDE_MONTHLY_CAP_MICROS,
    rateLimits: rateLimitSettings(e),
    jobsProcessEveryMs: e.JOBS_PROCESS_EVERY_MS,
    batches: batchSettings(e),
    gradeSync: { maxAttempts: e.GRADE_SYNC_MAX_ATTEMPTS, backoffMs: e.GRADE_SYNC_BACKOFF_MS, timeoutMs: e.GRADE_SYNC_TIMEOUT_MS },
    shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS,
    logLevel: e.LOG_LEVEL,
    logFormat: e.LOG_FORMAT ?? (e.NODE_ENV === 'production' ? 'json' : 'pretty'),
    metricsToken: e.METRICS_TOKEN,
    workerMetricsPort: e.WORKER_METRICS_PORT,
    mail: { smtpUrl: e.SMTP_URL, from: e.MAIL_FROM ?? `llm-assess <no-reply@${new URL(toolUrl).hostname}>`, maxAttempts: e.MAIL_MAX_ATTEMPTS },
  };
}

type Env = z.infer<typeof envSchema>;

/** The environment through its schema, then the rules that tie variables together; every problem is named at once. */
function parseEnvironment(source: Record<string, string | undefined>): Env {
  // Empty strings mean "unset": shells and .env files often export VAR= for "no value".
  const vars = Object.fromEntries(
    Object.entries(source).filter(([key, value]) => key in envSchema.shape && value !== undefined && value !== ''),
  );
  const parsed = envSchema.safeParse(vars);
  const noKey = !vars.ENCRYPTION_KEY && !vars.ENCRYPTION_KEYS ? ['ENCRYPTION_KEY: required (32 random bytes, base64), or ENCRYPTION_KEYS'] : [];
  if (!parsed.success) {
    throw new ConfigError([...parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`), ...noKey]);
  }
  const e = parsed.data;
  const problems: string[] = [...noKey, ...keyringProblems(e)];
  if (e.NODE_ENV === 'production') {
    if (!e.DATABASE_URL) problems.push('DATABASE_URL: required in production (the embedded database is for local use)');
    if (!e.TOOL_URL) problems.push('TOOL_URL: required in production (the public https URL of the tool)');
  }
  if (e.BATCH_MIN_SIZE > e.BATCH_MAX_SIZE) problems.push(`BATCH_MIN_SIZE: must not exceed BATCH_MAX_SIZE (${e.BATCH_MAX_SIZE})`);
  if (e.BATCH_POLL_MIN_MS > e.BATCH_POLL_MAX_MS) problems.push(`BATCH_POLL_MIN_MS: must not exceed BATCH_POLL_MAX_MS (${e.BATCH_POLL_MAX_MS})`);
  if (problems.length) throw new ConfigError(problems);
  return e;
}

/** What the keyring's variables must agree on beyond each one's own format. */
function keyringProblems(e: Env): string[] {
  const listed = new Map(e.ENCRYPTION_KEYS ?? []);
  const k1 = listed.get(LEGACY_KEY_ID);
  if (e.ENCRYPTION_KEY && k1 && !k1.equals(Buffer.from(e.ENCRYPTION_KEY, 'base64'))) {
    return [`ENCRYPTION_KEYS: the key "${LEGACY_KEY_ID}" differs from ENCRYPTION_KEY, which is the key "${LEGACY_KEY_ID}" (list the same key, or drop one)`];
  }
  // The content HMAC must never change (see Keyring.hmacKey): without k1 to derive it from, it is given outright.
  if (e.ENCRYPTION_KEYS && !e.ENCRYPTION_KEY && !k1 && !e.CONTENT_HMAC_KEY) {
    return [`CONTENT_HMAC_KEY: required when no key "${LEGACY_KEY_ID}" is configured (npm run keys -- hmac-key prints it while "${LEGACY_KEY_ID}" still is)`];
  }
  return [];
}

/** ENCRYPTION_KEYS in its order, then ENCRYPTION_KEY as `k1` if that list does not name it. */
function contentKeyring(e: Env): Keyring {
  const entries: Array<[string, Buffer]> = [...(e.ENCRYPTION_KEYS ?? [])];
  if (e.ENCRYPTION_KEY && !entries.some(([id]) => id === LEGACY_KEY_ID)) entries.push([LEGACY_KEY_ID, Buffer.from(e.ENCRYPTION_KEY, 'base64')]);
  return createKeyring(entries, { hmacKey: e.CONTENT_HMAC_KEY ? Buffer.from(e.CONTENT_HMAC_KEY, 'base64') : undefined });
}

function ltiSettings(e: Env): Config['lti'] {
  return {
    key: e.LTI_KEY,
    tokenMaxAgeSeconds: e.LTI_TOKEN_MAX_AGE_SECONDS,
    clockSkewSeconds: e.LTI_CLOCK_SKEW_SECONDS,
    jwksCacheTtlSeconds: e.LTI_JWKS_CACHE_TTL_SECONDS,
    jwksTimeoutMs: e.LTI_JWKS_TIMEOUT_MS,
    adminAllowlist: e.LTI_ADMIN_ALLOWLIST,
    outbound:
      e.NODE_ENV === 'production'
        ? { requireHttps: true, allowLoopback: false, allowPrivate: e.LTI_REGISTRATION_PRIVATE_NETWORK }
        : { requireHttps: false, allowLoopback: true, allowPrivate: true },
  };
}

function rateLimitSettings(e: Env): RateLimitSettings {
  return {
    ltiLaunchesPerIp: e.RATE_LIMIT_LTI_LAUNCHES_PER_MINUTE,
    ltiKeysPerIp: e.RATE_LIMIT_LTI_KEYS_PER_MINUTE,
    ltiRegistrationsPerIp: e.RATE_LIMIT_LTI_REGISTRATIONS_PER_MINUTE,
    submissionsPerUser: e.RATE_LIMIT_SUBMISSIONS_PER_MINUTE,
    sampleTestsPerUser: e.RATE_LIMIT_SAMPLE_TESTS_PER_MINUTE,
    sampleTestsPerCourse: e.RATE_LIMIT_COURSE_SAMPLE_TESTS_PER_MINUTE,
    apiWritesPerUser: e.RATE_LIMIT_API_WRITES_PER_MINUTE,
    maxKeys: e.RATE_LIMIT_MAX_KEYS,
  };
}

function batchSettings(e: Env): BatchSettings {
  return {
    minSize: e.BATCH_MIN_SIZE,
    maxSize: e.BATCH_MAX_SIZE,
    maxBytes: e.BATCH_MAX_BYTES,
    maxAttempts: e.QUEUE_MAX_ATTEMPTS,
    submitMaxTries: e.BATCH_SUBMIT_MAX_TRIES,
    pollMinMs: e.BATCH_POLL_MIN_MS,
    pollMaxMs: e.BATCH_POLL_MAX_MS,
    submittedTimeoutMs: e.BATCH_SUBMITTED_TIMEOUT_MS,
    processingTimeoutMs: e.BATCH_PROCESSING_TIMEOUT_MS,
    leaseMs: e.BATCH_LEASE_MS,
    enqueuedTokenLimit: e.BATCH_ENQUEUED_TOKEN_LIMIT,
    sweepMs: e.BATCH_SWEEP_MS,
    scheduleTickMs: e.BATCH_SCHEDULE_TICK_MS,
    ingestChunk: e.BATCH_INGEST_CHUNK,
  };
}

/**
 * Outside production, secrets that are not set are generated once and kept in a git-ignored file beside the
 * embedded database, so a restarted demo can still read its encrypted data. No secret lives in the code.
 */
export function withLocalSecrets(source: Record<string, string | undefined>): Record<string, string | undefined> {
  if (source.NODE_ENV === 'production' || (source.LTI_KEY && (source.ENCRYPTION_KEY || source.ENCRYPTION_KEYS))) return source;
  const dir = path.dirname(path.resolve(source.EMBEDDED_PG_DIR || '.data/pg'));
  const file = path.join(dir, 'local-secrets.json');
  let secrets: { LTI_KEY: string; ENCRYPTION_KEY: string };
  try {
    secrets = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    secrets = { LTI_KEY: randomBytes(32).toString('hex'), ENCRYPTION_KEY: randomBytes(32).toString('base64') };
    mkdirSync(dir, { recursive: true });
    writeFileSync(file, JSON.stringify(secrets, null, 2), { mode: 0o600 });
  }
  // The generated key is `k1`: given ENCRYPTION_KEYS, it is not added (list it there as k1 to keep reading with it).
  const encryption = source.ENCRYPTION_KEY || source.ENCRYPTION_KEYS ? {} : { ENCRYPTION_KEY: secrets.ENCRYPTION_KEY };
  return { ...source, LTI_KEY: source.LTI_KEY || secrets.LTI_KEY, ...encryption };
}

/** The configuration of a running process: the environment, plus generated local secrets outside production. */
export function loadRuntimeConfig(): Config {
  return loadConfig(withLocalSecrets(process.env));
}
