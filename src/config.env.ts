import { z } from 'zod';
import { KEY_ID_PATTERN } from './crypto/content.js';

// The environment's variables as zod reads them: types, bounds, defaults. src/config.ts turns the result into the
// Config every module takes; nothing else reads process.env.

const port = z.coerce.number().int().min(0).max(65535);
const positiveInt = z.coerce.number().int().positive();
const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');
const httpUrl = z
  .string()
  .url()
  .refine((u) => /^https?:\/\//.test(u), 'must start with http:// or https://')
  .transform((u) => u.replace(/\/+$/, ''));
const list = z
  .string()
  .transform((s) => s.split(',').map((x) => x.trim()).filter(Boolean));

/**
 * A person made administrator whatever their LMS role: the LMS that vouches for them (issuer) and their id there
 * (sub), both compared exactly.
 */
export interface AdminAllowlistEntry {
  issuer: string;
  sub: string;
}

/**
 * `<issuer>#<sub>`: issuers are URLs without a fragment, so the first '#' ends the issuer. E-mail addresses and bare
 * subs were accepted before and made anyone administrator who could set that e-mail in their LMS profile, or any
 * registered LMS that issued that sub: refused with a message that says how to write the entry now.
 */
const adminAllowlistEntry = z.string().transform((entry, ctx) => {
  const cut = entry.indexOf('#');
  const issuer = entry.slice(0, cut);
  const sub = entry.slice(cut + 1);
  if (cut <= 0 || !sub || !/^https?:\/\//.test(issuer) || !URL.canParse(issuer)) {
    ctx.addIssue({ code: 'custom', message: `"${entry}" is not <issuer>#<sub> (e.g. https://moodle.example.edu#42): e-mail addresses and bare subs are not accepted` });
    return z.NEVER;
  }
  return { issuer, sub };
});

const isKey32 = (k: string) => Buffer.from(k, 'base64').length === 32;
const key32 = z.string().refine(isKey32, 'must be 32 bytes, base64-encoded');

/**
 * ENCRYPTION_KEYS: `<id>:<base64 key>,…`, the first the key new content is encrypted with, the others kept to read
 * what they encrypted until `npm run keys -- rotate` has moved it. Messages name a key by its id or position,
 * never by its value: they end up in logs.
 */
const keyList = z.string().transform((value, ctx) => {
  const entries: Array<[string, Buffer]> = [];
  let problems = 0;
  const problem = (message: string) => {
    problems += 1;
    ctx.addIssue({ code: 'custom', message });
  };
  value
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean)
    .forEach((entry, i) => {
      const cut = entry.indexOf(':');
      const id = entry.slice(0, cut);
      const key = entry.slice(cut + 1);
      if (cut < 0) problem(`entry ${i + 1} is not <key id>:<base64 key> (e.g. k2:…)`);
      else if (!KEY_ID_PATTERN.test(id)) problem(`entry ${i + 1}: the key id "${id.slice(0, 40)}" must be 1 to 32 letters, digits, '-' or '_'`);
      else if (!isKey32(key)) problem(`the key "${id}" must be 32 bytes, base64-encoded`);
      else if (entries.some(([seen]) => seen === id)) problem(`the key id "${id}" appears twice`);
      else entries.push([id, Buffer.from(key, 'base64')]);
    });
  if (!entries.length && !problems) problem('names no key');
  return entries;
});

export const envSchema = z.object({
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  ROLE: z.enum(['all', 'web', 'worker']).default('all'),
  HOST: z.string().min(1).optional(),
  PORT: port.default(3000),
  TOOL_URL: httpUrl.optional(),
  TRUST_PROXY: bool.default(false),

  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// or postgresql:// connection string')
    .optional(),
  DATABASE_POOL_MAX: positiveInt.default(10),
  EMBEDDED_PG_DIR: z.string().min(1).default('.data/pg'),
  EMBEDDED_PG_PORT: port.default(54329),

  LTI_KEY: z.string({ error: 'required (at least 32 random characters)' }).min(32, 'must be at least 32 characters'),
  // One of ENCRYPTION_KEY and ENCRYPTION_KEYS is required (src/config.ts checks): ENCRYPTION_KEY is the key `k1`.
  ENCRYPTION_KEY: key32.optional(),
  ENCRYPTION_KEYS: keyList.optional(),
  CONTENT_HMAC_KEY: key32.optional(),
  LTI_TOKEN_MAX_AGE_SECONDS: positiveInt.max(3600).default(60),
  LTI_CLOCK_SKEW_SECONDS: z.coerce.number().int().min(0).max(300).default(30),
  LTI_JWKS_CACHE_TTL_SECONDS: positiveInt.default(600),
  LTI_JWKS_TIMEOUT_MS: positiveInt.default(3000),
  LTI_ADMIN_ALLOWLIST: list.pipe(z.array(adminAllowlistEntry)).default([]),
  LTI_REGISTRATION_PRIVATE_NETWORK: bool.default(false),

  OPENAI_API_KEY: z.string().min(1).optional(),
  OPENAI_BASE_URL: httpUrl.optional(),
  ANTHROPIC_API_KEY: z.string().min(1).optional(),
  ANTHROPIC_BASE_URL: httpUrl.optional(),
  EMULATOR_PORT: port.default(4010),
  EMULATOR_URL: httpUrl.optional(),
  // Emulator batch lifecycle, in milliseconds per phase: a few seconds in all by default, 0 in tests.
  EMULATOR_VALIDATING_MS: z.coerce.number().int().min(0).default(500),
  EMULATOR_IN_PROGRESS_MS: z.coerce.number().int().min(0).default(2000),
  EMULATOR_FINALIZING_MS: z.coerce.number().int().min(0).default(500),
  /** Fault injection for the emulator, as JSON (see src/emulator); checked by the emulator's own schema. */
  EMULATOR_FAULTS: z.string().optional(),

  DEVLMS_PORT: port.default(4000),

  // The demo's mail catcher (the dev LMS's SMTP server; the demo points SMTP_URL at it unless set).

  DEVLMS_SMTP_PORT: port.default(4025),
  DEVLMS_URL: httpUrl.optional(),

  SUBMISSION_MAX_CHARS: positiveInt.default(100_000),
  SUBMISSION_MAX_FILE_BYTES: positiveInt.max(10_000_000).default(200_000),
  // PDF and Word files carry fonts and images besides their text; they are read in memory, so bounded here too.
  SUBMISSION_MAX_DOCUMENT_BYTES: positiveInt.max(50_000_000).default(10_000_000),
  SUBMISSION_MAX_PDF_PAGES: positiveInt.max(2_000).default(50),
  // Sample tests are real-time calls at full price: bounded per request, whatever the submission limit is.
  SAMPLE_TEST_MAX_CHARS: positiveInt.default(50_000),
  SAMPLE_TEST_MAX_COST_MICROS: positiveInt.default(500_000),
  // Emergency overrides (items sent past a freeze or a spent budget): at most this much estimated per platform and month.
  BUDGET_OVERRIDE_MONTHLY_CAP_MICROS: z.coerce.number().int().min(0).max(Number.MAX_SAFE_INTEGER).default(50_000_000),
  // Rate limits, per minute and per web process (src/http/rate-limit.ts). Per client IP on the open LTI endpoints:
  // a lecture hall of 300 behind one campus address launching at once uses a quarter of the launch limit.
  RATE_LIMIT_LTI_LAUNCHES_PER_MINUTE: positiveInt.default(1200),
  RATE_LIMIT_LTI_KEYS_PER_MINUTE: positiveInt.default(6000),
  RATE_LIMIT_LTI_REGISTRATIONS_PER_MINUTE: positiveInt.default(30),
  // Per person (platform + user), and per course for sample tests.
  RATE_LIMIT_SUBMISSIONS_PER_MINUTE: positiveInt.default(20),
  RATE_LIMIT_SAMPLE_TESTS_PER_MINUTE: positiveInt.default(10),
  RATE_LIMIT_COURSE_SAMPLE_TESTS_PER_MINUTE: positiveInt.default(30),
  RATE_LIMIT_API_WRITES_PER_MINUTE: positiveInt.default(300),
  RATE_LIMIT_MAX_KEYS: positiveInt.max(1_000_000).default(10_000),

  // Batches: sizes an administrator may create (never above the provider's own limits), retries, polling.
  BATCH_MIN_SIZE: positiveInt.default(10),
  BATCH_MAX_SIZE: positiveInt.max(50_000, 'cannot exceed 50000, the most requests OpenAI accepts in one batch').default(100),
  BATCH_MAX_BYTES: positiveInt.max(200_000_000, 'cannot exceed 200000000 (200 MB), the largest batch file OpenAI accepts').default(200_000_000),
  QUEUE_MAX_ATTEMPTS: positiveInt.max(20).default(3),
  BATCH_SUBMIT_MAX_TRIES: positiveInt.max(50).default(5),
  BATCH_POLL_MIN_MS: z.coerce.number().int().min(0).default(5_000),
  BATCH_POLL_MAX_MS: positiveInt.default(300_000),
  BATCH_SUBMITTED_TIMEOUT_MS: positiveInt.default(3_600_000),
  BATCH_PROCESSING_TIMEOUT_MS: positiveInt.default(26 * 3_600_000),
  BATCH_LEASE_MS: positiveInt.min(500).default(120_000),
  BATCH_ENQUEUED_TOKEN_LIMIT: positiveInt.default(2_000_000),
  BATCH_SWEEP_MS: positiveInt.min(100).default(30_000),
  BATCH_SCHEDULE_TICK_MS: positiveInt.min(100).default(60_000),
  BATCH_INGEST_CHUNK: positiveInt.max(10_000).default(1000),
  JOBS_PROCESS_EVERY_MS: positiveInt.min(100).default(5000),
  // Grade passback (AGS): tries of one decision before it is left failed, backoff base, per-call timeout.
  GRADE_SYNC_MAX_ATTEMPTS: positiveInt.max(50).default(8),
  GRADE_SYNC_BACKOFF_MS: z.coerce.number().int().min(0).default(30_000),
  GRADE_SYNC_TIMEOUT_MS: positiveInt.default(10_000),
  SHUTDOWN_TIMEOUT_MS: positiveInt.default(15_000),
  LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error', 'silent']).default('info'),
  // One JSON object per line (production's default) or a line a person reads (the default elsewhere).
  LOG_FORMAT: z.enum(['json', 'pretty']).optional(),
  // The bearer token GET /metrics asks for; unset, /metrics is off (404).
  // E-mail notices: an SMTP server (smtp://user:pass@host:587, smtps://… for TLS); unset, notices stay in the inbox.
  SMTP_URL: z.url({ protocol: /^smtps?$/, error: 'must be an smtp:// or smtps:// URL' }).optional(),
  // The sender of those e-mails, e.g. "llm-assess <no-reply@university.edu>" (default: no-reply at TOOL_URL's host).
  MAIL_FROM: z.string().min(3).max(320).regex(/^[^\r\n]+$/, 'must be one line').optional(),
  // Tries of one e-mail before it is left failed (temporary refusals; a permanent one bounces at once).
  MAIL_MAX_ATTEMPTS: positiveInt.max(20).default(6),
  // A worker process's own /metrics and /healthz (ROLE=worker only; unset: none).
  WORKER_METRICS_PORT: port.optional(),
  METRICS_TOKEN: z.string().min(24, 'must be at least 24 characters (e.g. openssl rand -hex 24)').regex(/^[\x21-\x7e]+$/, 'must be printable ASCII without spaces').optional(),
});
