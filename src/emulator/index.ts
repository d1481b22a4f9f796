export { createEmulator, DEFAULT_TIMINGS, type Emulator, type EmulatorOptions } from './app.js';
export { startEmulator, type RunningEmulator, type StartEmulatorOptions } from './server.js';
export { FaultsError, parseFaults, parseFaultsJson, faultsSchema, type Faults, type FaultsInput, type Timings } from './faults.js';
export { OPENAI_LIMITS, type EmulatorLimits } from './context.js';
