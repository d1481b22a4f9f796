import express, { type Express, type RequestHandler } from 'express';
import { silentLogger, type Logger } from '../log.js';
import { ApiError, apiErrorHandler, sendApiError, unknownRoute } from './api-error.js';
import { OPENAI_LIMITS, type EmulatorContext, type EmulatorLimits } from './context.js';
import { FaultState, NO_FAULTS, parseFaults, parseFaultsJson, type Faults, type FaultsInput, type Timings } from './faults.js';
import { newId } from './hash.js';
import { anthropicRouter } from './anthropic/routes.js';
import { adminRouter } from './routes/admin.js';
import { batchesRouter } from './routes/batches.js';
import { chatRouter } from './routes/chat.js';
import { filesRouter } from './routes/files.js';
import { EmulatorStore } from './store.js';

/** Same defaults as the EMULATOR_*_MS settings in src/config.ts: a batch completes in about three seconds. */
export const DEFAULT_TIMINGS: Timings = { validatingMs: 500, inProgressMs: 2000, finalizingMs: 500 };

export interface EmulatorOptions {
  /** Batch phase durations (ms); 0 everywhere makes batches finish as fast as the work allows. */
  timings?: Partial<Timings>;
  /** Initial faults, as an object … */
  faults?: FaultsInput;
  /** … or as JSON text (EMULATOR_FAULTS). Invalid faults throw a FaultsError. */
  faultsJson?: string;
  /** Milliseconds since the epoch; tests pass a fake clock to step through a batch's life. */
  clock?: () => number;
  /** OpenAI's limits by default; tests lower them to exercise the limit errors cheaply. */
  limits?: Partial<EmulatorLimits>;
  logger?: Logger;
}

export interface Emulator {
  app: Express;
  context: EmulatorContext;
  getFaults(): Faults;
  /** Replaces the faults (validated; throws FaultsError). */
  setFaults(faults: FaultsInput): Faults;
  /** Forgets every file and batch and clears the faults. */
  reset(): void;
  /** Stops background work (call before closing the HTTP server). */
  stop(): Promise<void>;
}

const MISSING_KEY =
  "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY), or as the password field (with blank username) if you're accessing the API from your browser and are prompted for a username. You can obtain an API key from https://platform.openai.com/account/api-keys.";

/** Any non-empty bearer key is accepted: the emulator stands in for OpenAI, not for its access control. */
const requireApiKey: RequestHandler = (req, res, next) => {
  const auth = req.get('authorization') ?? '';
  const key = /^Bearer\s+(\S+)/i.exec(auth)?.[1];
  if (!key) return sendApiError(res, new ApiError(401, MISSING_KEY, 'invalid_request_error'));
  next();
};

const requestId: RequestHandler = (_req, res, next) => {
  res.set('x-request-id', newId('req_', 32));
  next();
};

function initialFaults(options: EmulatorOptions): Faults {
  if (options.faults !== undefined && options.faultsJson !== undefined) {
    throw new Error('Give the emulator faults as an object or as JSON text, not both.');
  }
  if (options.faults !== undefined) return parseFaults(options.faults);
  return options.faultsJson !== undefined ? parseFaultsJson(options.faultsJson) : NO_FAULTS;
}

/** The emulator as an Express app, without listening (see startEmulator for a running server). */
export function createEmulator(options: EmulatorOptions = {}): Emulator {
  const context: EmulatorContext = {
    store: new EmulatorStore(),
    faults: new FaultState(initialFaults(options)),
    clock: options.clock ?? Date.now,
    timings: { ...DEFAULT_TIMINGS, ...options.timings },
    limits: { ...OPENAI_LIMITS, ...options.limits },
    logger: options.logger ?? silentLogger,
    runners: new Set(),
    stopping: false,
  };

  const app = express();
  app.disable('x-powered-by');
  // The Anthropic side first: its own headers, error envelope and body limit (a batch is one request of up to 256 MB).
  app.use('/v1/messages', anthropicRouter(context));
  app.use(express.json({ limit: '64mb' }));

  const v1 = express.Router();
  v1.use(requestId, requireApiKey);
  v1.use(filesRouter(context), batchesRouter(context), chatRouter(context));
  v1.use(unknownRoute);
  app.use('/v1', v1);
  app.use('/__emulator', adminRouter(context));
  app.use((_req, res) => sendApiError(res, new ApiError(404, 'Not found: the emulator serves the OpenAI API under /v1, Anthropic\'s Messages under /v1/messages, and its controls under /__emulator.')));
  app.use(apiErrorHandler(context.logger));

  return {
    app,
    context,
    getFaults: () => context.faults.current,
    setFaults(faults) {
      context.faults.set(parseFaults(faults));
      return context.faults.current;
    },
    reset() {
      context.store.clear();
      context.faults.set(NO_FAULTS);
    },
    async stop() {
      context.stopping = true;
      await Promise.allSettled([...context.runners]);
    },
  };
}
